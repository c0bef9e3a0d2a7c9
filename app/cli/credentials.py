"""``market-monitor credentials``: the File → Credentials… dialog for machines without the window.

``list`` says what the OS keyring holds per venue environment (never a secret), ``set`` checks and stores a
pair, ``delete`` removes one, ``test`` runs the dialog's "Test connection" on what is stored. The same
keyring names, checks and messages as the dialog (app/user/credentials.py, app/user/connection_check.py).
Secrets come from a file, stdin or a hidden prompt, never from the command line, and are never printed.
No Qt.

Exit status: 0 done, 1 refused (bad key, no usable keyring, connection test failed), 2 usage.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

from app.core.instruments import Environment, Venue
from app.user.connection_check import TIMEOUT_S, check_kalshi, check_kraken
from app.user.credentials import (
    MAX_PEM_BYTES,
    TARGETS,
    CredentialInputError,
    Target,
    default_rest_url,
    delete_pair,
    find_target,
    kalshi_key_kind,
    kalshi_pair,
    kraken_pair,
    kraken_secret_problem,
    pem_text,
    read_key_file,
    read_pair,
    read_pem_file,
    shown_ident,
    write_pair,
)
from app.user.secret_store import KeyringUnavailable, SecretStore, backend_info

PROG = "market-monitor credentials"
EXIT_FAILED = 1
EXIT_USAGE = 2
MAX_SECRET_BYTES = 4096  # a Kraken secret is 88 characters
MAX_API_KEY_BYTES = 1024  # a Kraken API key is 56
# How errors call a file: never by the argument, which may be the key itself typed in the wrong place.
_FILE_NAMES = {
    "--private-key-file": "the --private-key-file",
    "--secret-file": "the --secret-file",
    "--api-key-file": "the --api-key-file",
}


class CliError(Exception):
    """One line for stderr, and the exit status."""

    def __init__(self, message: str, status: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class Entry:
    """What ``list`` reports for one venue environment: never a secret, nor a whole Kraken API key."""

    venue: Venue
    env: Environment
    state: str  # "saved", "not set", "incomplete" or "unusable"
    identifier: str | None  # as shown_ident shows it
    secret_stored: bool
    key_type: str | None = None  # Kalshi: "RSA-2048 key" / "Ed25519 key"
    problem: str | None = None  # why a stored secret cannot be used


def run(args: argparse.Namespace) -> int:
    actions = {"list": _list, "set": _set, "delete": _delete, "test": _test}
    try:
        return actions[args.action](args)
    except CliError as exc:
        return _fail(args, str(exc), exc.status)
    except KeyringUnavailable as exc:
        return _fail(args, str(exc), EXIT_FAILED)


def _fail(args: argparse.Namespace, message: str, status: int) -> int:
    """A failure in words on stderr; with ``--json`` also as one JSON object on stdout, for scripts."""
    print(f"{PROG}: error: {message}", file=sys.stderr)
    if getattr(args, "json", False):
        print(json.dumps({"error": message, "exit_status": status}))
    return status


# ---------------------------------------------------------------------------------------- actions


def _list(args: argparse.Namespace) -> int:
    backend = _usable_backend()
    secrets = SecretStore()
    entries = [_entry(t, *read_pair(secrets, t)) for t in TARGETS]
    if args.json:
        print(json.dumps({"keyring": backend, "credentials": [asdict(e) for e in entries]}))
        return 0
    print(f"keyring: {backend}")
    for e in entries:
        print(f"{e.venue:<7} {e.env:<11} {e.state:<11} {_details(find_target(e.venue, e.env), e)}".rstrip())
    return 0


def _set(args: argparse.Namespace) -> int:
    t = find_target(args.venue, args.env)
    # Everything is checked before the keyring is touched: bad input stores nothing.
    try:
        if t.venue is Venue.KALSHI:
            values = kalshi_pair(args.key_id, _read_pem(args.private_key_file))
        else:
            values = kraken_pair(_read_api_key(args), _read_secret(args.secret_file))
    except CredentialInputError as exc:
        raise CliError(str(exc)) from None
    backend = _usable_backend()
    error, changed = write_pair(SecretStore(), t, values)
    if error is not None:
        raise CliError(f"not saved, and the earlier credentials were removed: {error}" if changed else error)
    kind = f" ({kalshi_key_kind(values[1])})" if t.venue is Venue.KALSHI else ""
    shown = f"{t.ident_label} {shown_ident(t, values[0])}{kind}"
    print(f"saved {t.venue} {t.env} in the OS keyring ({backend}): {shown}")
    return 0


def _delete(args: argparse.Namespace) -> int:
    t = find_target(args.venue, args.env)
    _usable_backend()
    secrets = SecretStore()
    ident, secret = read_pair(secrets, t)
    delete_pair(secrets, t)
    halves = ((t.ident_label, ident), (t.secret_label, secret))
    removed = [label for label, value in halves if value is not None]
    if removed:
        print(f"deleted {t.venue} {t.env} from the OS keyring: {' and '.join(removed)}")
    else:
        print(f"nothing stored for {t.venue} {t.env}; nothing deleted")
    return 0


def _test(args: argparse.Namespace) -> int:
    t = find_target(args.venue, args.env)
    _usable_backend()
    ident, secret = read_pair(SecretStore(), t)
    if ident is None or secret is None:
        state = "nothing is stored" if ident is None and secret is None else "only half a pair is stored"
        raise CliError(f"{state} for {t.venue} {t.env}: see market-monitor credentials set {t.venue} --help")
    url = args.rest_url or default_rest_url(t)
    check = check_kalshi if t.venue is Venue.KALSHI else check_kraken
    result = asyncio.run(check(url, ident, secret, timeout=args.timeout or TIMEOUT_S))
    host = urlsplit(url).hostname or url
    if not result.ok:
        raise CliError(f"{t.venue} {t.env} at {host}: {result.message}")
    print(f"{t.venue} {t.env} at {host}: {result.message}")
    return 0


# ---------------------------------------------------------------------------------------- helpers


def _usable_backend() -> str:
    """The keyring backend's name; ``CliError`` when there is no usable one."""
    info = backend_info()
    if not info.usable:
        raise CliError(f"no usable OS keyring ({info.name}): {info.reason}")
    return info.name


def _entry(t: Target, ident: str | None, secret: str | None) -> Entry:
    shown = None if ident is None else shown_ident(t, ident)
    if ident is None and secret is None:
        return Entry(t.venue, t.env, "not set", None, False)
    if ident is None or secret is None:
        return Entry(t.venue, t.env, "incomplete", shown, secret is not None)
    if t.venue is Venue.KALSHI:
        try:
            return Entry(t.venue, t.env, "saved", shown, True, key_type=kalshi_key_kind(secret))
        except CredentialInputError as exc:
            return Entry(t.venue, t.env, "unusable", shown, True, problem=str(exc))
    problem = kraken_secret_problem(secret)
    if problem is not None:
        return Entry(t.venue, t.env, "unusable", shown, True, problem=f"bad key format: {problem}")
    return Entry(t.venue, t.env, "saved", shown, True)


def _details(t: Target, e: Entry) -> str:
    if e.state == "not set":
        return ""
    if e.identifier is None:
        return f"a {t.secret_label} but no {t.ident_label} (set both again, or delete)"
    ident = f"{t.ident_label} {e.identifier}"
    if not e.secret_stored:
        return f"{ident} but no {t.secret_label} (set both again, or delete)"
    if e.problem is not None:
        return f"{ident}, {t.secret_label} unusable ({e.problem})"
    return f"{ident}, {e.key_type}" if e.key_type else ident


def _read_pem(path: str) -> str:
    if path != "-":
        return read_pem_file(path, _FILE_NAMES["--private-key-file"])
    if sys.stdin.isatty():
        print("Paste the private key (PEM), then press Ctrl-D:", file=sys.stderr)
    return pem_text(sys.stdin.buffer.read(MAX_PEM_BYTES + 1), "stdin")


def _read_api_key(args: argparse.Namespace) -> str:
    """The Kraken API key: from ``--api-key-file`` (or stdin), a prompt without echo, or, for old scripts,
    ``--api-key`` (with a warning: the process list and the shell history show it)."""
    if args.api_key is not None:
        print(
            f"{PROG}: warning: --api-key shows the key in the process list and shell history; "
            "use --api-key-file FILE (or -), or leave it out to be asked",
            file=sys.stderr,
        )
        return str(args.api_key)
    if args.api_key_file == "-" and args.secret_file == "-":
        raise CliError(
            "stdin can carry only one of --api-key-file and --secret-file: put the other in a file", 2
        )
    return _read_half(args.api_key_file, "--api-key-file", "API key", MAX_API_KEY_BYTES)


def _read_secret(path: str | None) -> str:
    return _read_half(path, "--secret-file", "secret", MAX_SECRET_BYTES)


def _read_half(path: str | None, option: str, what: str, limit: int) -> str:
    """Half a Kraken pair (``what``: "API key" or "secret") from a file, stdin (``-``) or, on a terminal, a
    prompt without echo."""
    label = f"Kraken API {what.removeprefix('API ')}"  # "Kraken API key", "Kraken API secret"
    if path is None:
        if not sys.stdin.isatty():
            raise CliError(
                f"give the {what} with {option} FILE, or {option} - to read stdin "
                "(it is never taken from the command line)",
                EXIT_USAGE,
            )
        try:
            return getpass.getpass(f"{label} (not shown): ")
        except EOFError:
            raise CliError(f"no {what} entered") from None
    if path == "-":
        data = sys.stdin.buffer.read(limit + 1)
        name = "stdin"
    else:
        name = _FILE_NAMES[option]
        try:
            data = read_key_file(path, name, limit)
        except CredentialInputError as exc:
            raise CliError(str(exc)) from None
    if len(data) > limit:
        raise CliError(f"bad key format: {name} is far too long for a {label}")
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        raise CliError(f"bad key format: {name} is not a text file") from None
