"""``market-monitor credentials`` as a user runs it: a real process, the real keyring, the real simulator.

Tests that store anything use the private, throw-away gnome-keyring of scripts/with-keyring.sh (it sets
MARKET_MONITOR_TEST_KEYRING) and skip without it; the rest run anywhere: no usable keyring, bad keys and
secrets refused before the keyring is touched, usage errors, and no secret ever on the command line or in
the output. Subprocesses get this process's environment, which holds the private D-Bus session address.
"""

from __future__ import annotations

import base64
import json
import os
import re
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import keyring
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from keyring.errors import PasswordDeleteError, PasswordSetError
from pytestqt.qtbot import QtBot

from app.launch.launcher import kalshi_credentials, kraken_credentials
from app.user.credentials import TARGETS, find_target, write_pair
from app.user.secret_store import SERVICE, SecretStore
from tests.command import COMMAND
from tests.fake_keyring import MemoryKeyring, real_keyring_problem, using

KEY_ID = "a952bcbe-ec3b-4b5b-b8f9-11dae589608c"
KRAKEN_KEY = "kraken-api-key-0123456789"
KEY_FILE = str(Path(tempfile.mkdtemp(prefix="mm-cred-test-")) / "kraken-key.txt")
Path(KEY_FILE).write_text(KRAKEN_KEY + "\n")  # the API key never needs the command line either
KRAKEN_SECRET = base64.b64encode(bytes(range(64))).decode()
OTHER_SECRET = base64.b64encode(bytes(range(64, 128))).decode()
PROG = "market-monitor credentials"
NO_KEYRING = "keyring.backends.fail.Keyring"
SECRET_SERVICE = "keyring.backends.SecretService.Keyring"
WAIT_MS = 10_000

needs_keyring = pytest.mark.skipif(
    not os.environ.get("MARKET_MONITOR_TEST_KEYRING"),
    reason="needs MARKET_MONITOR_TEST_KEYRING: the private test keyring of scripts/with-keyring.sh "
    "(scripts/test.sh runs pytest under it)",
)

ED_KEY = ed25519.Ed25519PrivateKey.generate()
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(key: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    fmt = (
        serialization.PrivateFormat.TraditionalOpenSSL  # as Kalshi hands out RSA keys
        if isinstance(key, rsa.RSAPrivateKey)
        else serialization.PrivateFormat.PKCS8
    )
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode()


def _public_pem(key: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


ED_PEM, RSA_PEM = _pem(ED_KEY), _pem(RSA_KEY)


def _parts(secret: str) -> list[str]:
    """The whole secret and every PEM body line: none may be printed."""
    return [secret.strip()] + [p for p in secret.split() if len(p) >= 16 and "-----" not in p]


def assert_no_secret(result: subprocess.CompletedProcess[str], *secrets: str) -> None:
    for secret in secrets:
        for part in _parts(secret):
            assert part not in result.stdout
            assert part not in result.stderr


def _env(**extra: str) -> dict[str, str]:
    # This process's environment: the private D-Bus session (under with-keyring.sh) or conftest's
    # "fail" backend (elsewhere), so no test ever reaches the developer's own keyring.
    return {**os.environ, **extra}


def _no_keyring() -> dict[str, str]:
    return _env(PYTHON_KEYRING_BACKEND=NO_KEYRING)


def cred(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [COMMAND, "credentials", *args],
        input=stdin if stdin is not None else "",  # never the terminal pytest may be attached to
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env=env or _env(),
    )


def error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The one line a failure prints on stderr; stdout stays empty unless ``--json`` asked for it there."""
    if "--json" not in result.args:
        assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def _stored() -> dict[str, str]:
    """Every credential in the keyring this process reaches (the private test keyring)."""
    found = {}
    for t in TARGETS:
        for name in t.names:
            value = keyring.get_password(SERVICE, name)
            if value is not None:
                found[name] = value
    return found


def _clear_keyring() -> None:
    for t in TARGETS:
        for name in t.names:
            with suppress(PasswordDeleteError):
                keyring.delete_password(SERVICE, name)


@pytest.fixture
def private_keyring() -> Iterator[None]:
    """The private Secret Service keyring, empty of credentials before and after the test."""
    problem = real_keyring_problem()
    if problem is not None:
        pytest.skip(problem)
    _clear_keyring()
    yield
    _clear_keyring()


@pytest.fixture
def keyring_if_any() -> Iterator[bool]:
    """The private test keyring when there is one (then emptied before and after), else none at all."""
    usable = bool(os.environ.get("MARKET_MONITOR_TEST_KEYRING")) and real_keyring_problem() is None
    if usable:
        _clear_keyring()
    yield usable
    if usable:
        _clear_keyring()


@contextmanager
def simulator(*args: str) -> Iterator[dict[str, str]]:
    """``market-monitor sim`` in its own process, verifying signatures; yields its URLs."""
    proc = subprocess.Popen(
        [COMMAND, "sim", "--rate", "0", "--quiet", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, proc.stderr.read() if proc.stderr else ""
        yield json.loads(line)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


# ---------------------------------------------------------------------------------------- anywhere


@pytest.mark.parametrize("backend", [NO_KEYRING, "keyring.backends.null.Keyring"])
def test_no_usable_keyring_is_one_clear_line_and_exit_1(tmp_path: Path, backend: str) -> None:
    pem_file = _write(tmp_path, "key.pem", ED_PEM)
    secret_file = _write(tmp_path, "secret.txt", KRAKEN_SECRET)
    env = _env(PYTHON_KEYRING_BACKEND=backend)
    for args in (
        ["list"],
        ["list", "--json"],
        ["set", "kalshi", "demo", "--key-id", KEY_ID, "--private-key-file", pem_file],
        ["set", "kraken", "live", "--api-key-file", KEY_FILE, "--secret-file", secret_file],
        ["delete", "kalshi", "production"],
        ["test", "kraken", "beta", "--rest-url", "http://127.0.0.1:9/"],
    ):
        result = cred(*args, env=env)
        assert result.returncode == 1, args
        line = error_line(result)
        assert line.startswith(f"{PROG}: error: no usable OS keyring ({backend}): "), line
        assert "no Secret Service, Keychain or Credential Locker was found" in line
        assert_no_secret(result, ED_PEM, KRAKEN_SECRET)
        if "--json" in args:  # a script reading stdout gets the same failure as JSON, not nothing
            report = json.loads(result.stdout)
            assert report == {"error": line.removeprefix(f"{PROG}: error: "), "exit_status": 1}


_GARBAGE_PEM = (
    "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5IGF0IGFsbCwganVzdCB0ZXh0IGhlcmU=\n-----END PRIVATE KEY-----\n"
)


def test_bad_private_key_is_refused_and_nothing_stored(tmp_path: Path, keyring_if_any: bool) -> None:
    ec_pem = _pem(ec.generate_private_key(ec.SECP256R1()))
    small_pem = _pem(rsa.generate_private_key(public_exponent=65537, key_size=1024))
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0 not text")
    cases = [
        (_write(tmp_path, "garbage.pem", _GARBAGE_PEM), None, "bad key format: not a PEM private key"),
        (_write(tmp_path, "ec.pem", ec_pem), None, "bad key format: unsupported key type"),
        (
            _write(tmp_path, "small.pem", small_pem),
            None,
            "bad key format: RSA key is 1024 bits; Kalshi keys are 2048 bits or more",
        ),
        (str(tmp_path / "photo.jpg"), None, "bad key format: the --private-key-file is not a PEM text file"),
        (
            str(tmp_path / "missing.pem"),
            None,
            "cannot read the --private-key-file: No such file or directory",
        ),
        ("-", "", "bad key format: stdin is not a PEM text file"),
        ("-", ec_pem, "bad key format: unsupported key type"),
    ]
    for path, stdin, message in cases:
        result = cred(
            "set", "kalshi", "production", "--key-id", KEY_ID, "--private-key-file", path, stdin=stdin
        )
        assert result.returncode == 1, (path, result.stderr)
        assert error_line(result).startswith(f"{PROG}: error: {message}")  # the key is checked first
        assert_no_secret(result, ec_pem, small_pem, _GARBAGE_PEM)
    if keyring_if_any:
        assert _stored() == {}
        assert "kalshi  production  not set" in cred("list").stdout


def test_bad_kraken_secret_is_refused_and_nothing_stored(tmp_path: Path, keyring_if_any: bool) -> None:
    (tmp_path / "binary").write_bytes(b"\xff\xfe\x00secret")
    base = ["set", "kraken", "live", "--api-key-file", KEY_FILE, "--secret-file"]
    not_base64 = "bad key format: the API secret is not valid base64 (copy it again from Kraken)"
    cases = [
        ([_write(tmp_path, "secret.txt", "this is not base64 at all!\n")], None, not_base64),
        (["-"], "not base64!", not_base64),
        (["-"], "  \n", "Enter the API secret."),
        ([str(tmp_path / "binary")], None, "bad key format: the --secret-file is not a text file"),
        ([str(tmp_path / "nope.txt")], None, "cannot read the --secret-file: No such file or directory"),
    ]
    for extra, stdin, message in cases:
        result = cred(*base, *extra, stdin=stdin)
        assert result.returncode == 1, (extra, result.stderr)
        assert error_line(result) == f"{PROG}: error: {message}"
    if keyring_if_any:
        assert _stored() == {}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "the following arguments are required: ACTION"),
        (["set"], "the following arguments are required: VENUE"),
        (["set", "kalshi", "live", "--key-id", KEY_ID, "--private-key-file", "k.pem"], "invalid choice"),
        (["set", "kalshi", "production", "--private-key-file", "k.pem"], "required: --key-id"),
        (
            ["set", "kalshi", "production", "--key-id", " ", "--private-key-file", "k.pem"],
            "must not be empty",
        ),
        (["set", "kraken", "live", "--api-key-file", KEY_FILE], "give the secret with --secret-file FILE"),
        (["delete", "bitstamp", "live"], "invalid choice"),
        (["delete", "kraken"], "required: ENV"),
        (["test", "kraken", "sim"], "invalid choice (choose from"),  # the simulator keeps no key
        (["test", "kalshi", "demo", "--timeout", "0"], "must be positive"),
        (["list", "--yaml"], "1 unrecognized argument(s)"),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str) -> None:
    result = cred(*args, env=_no_keyring())  # and are found before any keyring call
    assert result.returncode == 2, result.stderr
    line = error_line(result)
    assert line.startswith(PROG) and ": error: " in line and message in line, line


def test_a_secret_is_never_taken_from_the_command_line_nor_repeated(keyring_if_any: bool) -> None:
    # The only options are names and file names: no option takes a key or a secret.
    for venue, expected in (
        ("kalshi", {"--key-id", "--private-key-file"}),
        ("kraken", {"--api-key-file", "--api-key", "--secret-file"}),
    ):
        result = cred("set", venue, "--help")
        assert result.returncode == 0
        assert set(re.findall(r"--[a-z][a-z-]+", result.stdout)) == expected | {"--help"}
    # A secret typed where it does not belong is refused, stores nothing, and is not echoed back.
    kraken = ["set", "kraken", "live", "--api-key-file", KEY_FILE]
    for args in (
        [*kraken, "--secret", KRAKEN_SECRET],  # not an abbreviation of --secret-file
        [*kraken, f"--secret={KRAKEN_SECRET}"],
        [*kraken, "--secret-file", KRAKEN_SECRET],  # the secret instead of a file name
        ["set", "kraken", KRAKEN_SECRET, "--api-key-file", KEY_FILE],  # instead of ENV
        ["set", "kalshi", "production", "--key-id", KEY_ID, "--private-key", ED_PEM],
        ["set", "kalshi", "production", "--key-id", KEY_ID, "--private-key-file", ED_PEM],
    ):
        result = cred(*args)
        assert result.returncode in (1, 2), args
        error_line(result)
        assert_no_secret(result, KRAKEN_SECRET, ED_PEM)
    if keyring_if_any:
        assert _stored() == {}


def test_write_pair_never_leaves_half_a_pair() -> None:
    class Refuses(MemoryKeyring):
        refuse: str | None = None

        def set_password(self, service: str, username: str, password: str) -> None:
            if username == self.refuse:
                raise PasswordSetError("Prompt dismissed.")
            super().set_password(service, username, password)

    backend = Refuses()
    t = find_target("kraken", "live")
    with using(backend):
        assert write_pair(SecretStore(), t, ("old-key", OTHER_SECRET)) == (None, True)
        backend.refuse = "kraken/live/secret"  # the first write: nothing changes
        error, changed = write_pair(SecretStore(), t, ("new-key", KRAKEN_SECRET))
        assert error is not None and "Prompt dismissed" in error and not changed
        assert backend.store == {
            (SERVICE, "kraken/live/api_key"): "old-key",
            (SERVICE, t.names[1]): OTHER_SECRET,
        }
        backend.refuse = "kraken/live/api_key"  # the second write: both halves go
        error, changed = write_pair(SecretStore(), t, ("new-key", KRAKEN_SECRET))
        assert error is not None and changed
        assert backend.store == {}


# ---------------------------------------------------------------------------------------- private keyring


@needs_keyring
@pytest.mark.parametrize(
    ("key", "other", "kind"), [(RSA_KEY, ED_KEY, "RSA-2048 key"), (ED_KEY, RSA_KEY, "Ed25519 key")]
)
@pytest.mark.usefixtures("private_keyring")
def test_kalshi_set_list_test_delete(
    tmp_path: Path,
    key: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey,
    other: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey,
    kind: str,
) -> None:
    pem, wrong_pem = _pem(key), _pem(other)
    public = tmp_path / "public.pem"
    public.write_bytes(_public_pem(key))

    result = cred(
        "set",
        "kalshi",
        "production",
        "--key-id",
        KEY_ID,
        "--private-key-file",
        _write(tmp_path, "k.pem", pem),
    )
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout
        == f"saved kalshi production in the OS keyring ({SECRET_SERVICE}): key id {KEY_ID} ({kind})\n"
    )
    # The same keyring entries the dialog and `stream --profile` read.
    assert _stored() == {"kalshi/production/key_id": KEY_ID, "kalshi/production/private_key": pem}
    creds = kalshi_credentials(SecretStore(), "production")
    assert creds is not None and creds.key_id == KEY_ID

    listed = cred("list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0] == f"keyring: {SECRET_SERVICE}"
    assert lines[1] == f"kalshi  production  saved       key id {KEY_ID}, {kind}"
    assert lines[2].split() == ["kalshi", "demo", "not", "set"]
    as_json = cred("list", "--json")
    report = json.loads(as_json.stdout)
    assert report["keyring"] == SECRET_SERVICE
    assert report["credentials"][0] == {
        "venue": "kalshi",
        "env": "production",
        "state": "saved",
        "identifier": KEY_ID,
        "secret_stored": True,
        "key_type": kind,
        "problem": None,
    }
    assert [(e["venue"], e["env"]) for e in report["credentials"]] == [(t.venue, t.env) for t in TARGETS]
    for shown in (result, listed, as_json):
        assert_no_secret(shown, pem)
        assert "PRIVATE KEY" not in shown.stdout

    with simulator("--kalshi-public-key", str(public)) as urls:
        ok = cred("test", "kalshi", "production", "--rest-url", urls["kalshi_rest"])
        assert ok.returncode == 0, ok.stderr
        assert ok.stdout == "kalshi production at 127.0.0.1: connected: signed request accepted\n"
        # Another key, from stdin this time: the simulator refuses its signature.
        replaced = cred(
            "set", "kalshi", "production", "--key-id", KEY_ID, "--private-key-file", "-", stdin=wrong_pem
        )
        assert replaced.returncode == 0, replaced.stderr
        refused = cred("test", "kalshi", "production", "--rest-url", urls["kalshi_rest"])
    assert refused.returncode == 1
    assert error_line(refused) == (
        f"{PROG}: error: kalshi production at 127.0.0.1: signature rejected (HTTP 401) — check the key id "
        "and that the key matches"
    )
    for shown in (ok, replaced, refused):
        assert_no_secret(shown, pem, wrong_pem)

    deleted = cred("delete", "kalshi", "production")
    assert deleted.stdout == "deleted kalshi production from the OS keyring: key id and private key\n"
    assert _stored() == {}
    again = cred("delete", "kalshi", "production")
    assert again.returncode == 0 and again.stdout == "nothing stored for kalshi production; nothing deleted\n"
    assert "kalshi  production  not set" in cred("list").stdout
    nothing = cred("test", "kalshi", "production", "--rest-url", "http://127.0.0.1:9/trade-api/v2")
    assert nothing.returncode == 1
    assert error_line(nothing).startswith(f"{PROG}: error: nothing is stored for kalshi production")


@needs_keyring
@pytest.mark.usefixtures("private_keyring")
def test_kraken_set_from_stdin_list_test_delete(tmp_path: Path) -> None:
    result = cred(
        "set", "kraken", "beta", "--api-key-file", KEY_FILE, "--secret-file", "-", stdin=KRAKEN_SECRET + "\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"saved kraken beta in the OS keyring ({SECRET_SERVICE}): API key kraken…\n"
    assert _stored() == {"kraken/beta/api_key": KRAKEN_KEY, "kraken/beta/secret": KRAKEN_SECRET}
    creds = kraken_credentials(SecretStore(), "beta")
    assert creds is not None and creds.api_key == KRAKEN_KEY

    listed = cred("list")
    assert "kraken  beta        saved       API key kraken…" in listed.stdout.splitlines()
    as_json = cred("list", "--json")
    entry = json.loads(as_json.stdout)["credentials"][3]
    assert entry["identifier"] == "kraken…" and entry["secret_stored"] and entry["state"] == "saved"
    for shown in (result, listed, as_json):
        assert_no_secret(shown, KRAKEN_SECRET, KRAKEN_KEY)  # nor the whole API key: half a credential

    sim_args = ("--kraken-key", KRAKEN_KEY, "--kraken-secret", KRAKEN_SECRET)
    with simulator(*sim_args) as urls:
        ok = cred("test", "kraken", "beta", "--rest-url", urls["kraken_rest"])
        assert ok.returncode == 0, ok.stderr
        assert ok.stdout == "kraken beta at 127.0.0.1: connected: signed request accepted\n"
        wrong = _write(tmp_path, "wrong.txt", OTHER_SECRET + "\n")
        assert (
            cred("set", "kraken", "beta", "--api-key-file", KEY_FILE, "--secret-file", wrong).returncode == 0
        )
        refused = cred("test", "kraken", "beta", "--rest-url", urls["kraken_rest"])
    assert refused.returncode == 1
    assert (
        error_line(refused)
        == f"{PROG}: error: kraken beta at 127.0.0.1: Kraken refused: EAPI:Invalid signature"
    )
    assert_no_secret(refused, KRAKEN_SECRET, OTHER_SECRET)

    assert cred("delete", "kraken", "beta").stdout == (
        "deleted kraken beta from the OS keyring: API key and secret\n"
    )
    assert _stored() == {}


@needs_keyring
@pytest.mark.usefixtures("private_keyring")
def test_list_flags_half_pairs_and_unusable_keys() -> None:
    # What an interrupted save of an older version, or a hand-edited keyring, could leave behind.
    keyring.set_password(SERVICE, "kalshi/production/key_id", KEY_ID)
    keyring.set_password(SERVICE, "kalshi/production/private_key", _GARBAGE_PEM)
    keyring.set_password(SERVICE, "kalshi/demo/key_id", KEY_ID)
    keyring.set_password(SERVICE, "kraken/live/secret", KRAKEN_SECRET)
    listed = cred("list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[1:] == [
        f"kalshi  production  unusable    key id {KEY_ID}, private key unusable (bad key format: not a PEM "
        "private key (expected -----BEGIN ... PRIVATE KEY-----))",
        f"kalshi  demo        incomplete  key id {KEY_ID} but no private key (set both again, or delete)",
        "kraken  live        incomplete  a secret but no API key (set both again, or delete)",
        "kraken  beta        not set",
    ]
    assert_no_secret(listed, _GARBAGE_PEM, KRAKEN_SECRET)
    half = cred("test", "kraken", "live", "--rest-url", "http://127.0.0.1:9")
    assert half.returncode == 1
    assert error_line(half) == (
        f"{PROG}: error: only half a pair is stored for kraken live: see market-monitor credentials set "
        "kraken --help"
    )
    bad = cred("test", "kalshi", "production", "--rest-url", "http://127.0.0.1:9/trade-api/v2")
    assert bad.returncode == 1
    assert error_line(bad).startswith(f"{PROG}: error: kalshi production at 127.0.0.1: bad key format:")
    assert cred("delete", "kraken", "live").stdout == "deleted kraken live from the OS keyring: secret\n"


@needs_keyring
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses a Linux pseudo-terminal")
@pytest.mark.usefixtures("private_keyring")
def test_kraken_key_and_secret_prompts_do_not_echo() -> None:
    master, slave = os.openpty()
    proc = subprocess.Popen(
        [COMMAND, "credentials", "set", "kraken", "live"],
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(),
        start_new_session=True,  # no controlling terminal: the prompt cannot reach the one pytest runs in
    )
    os.close(slave)
    prompts = b""

    def wait_for(text: bytes) -> None:
        nonlocal prompts
        deadline = time.monotonic() + 30
        assert proc.stderr is not None
        while text not in prompts:
            assert time.monotonic() < deadline, prompts
            ready, _, _ = select.select([proc.stderr], [], [], 1)
            if ready:
                chunk = os.read(proc.stderr.fileno(), 1024)
                assert chunk, prompts  # the process ended without asking
                prompts += chunk

    try:
        assert proc.stderr is not None and proc.stdout is not None
        wait_for(b"Kraken API key (not shown)")
        os.write(master, KRAKEN_KEY.encode() + b"\n")
        wait_for(b"Kraken API secret (not shown)")
        with open(f"/proc/{proc.pid}/cmdline", "rb") as fh:  # what `ps` shows
            cmdline = fh.read()
        assert KRAKEN_SECRET.encode() not in cmdline and KRAKEN_KEY.encode() not in cmdline
        os.write(master, KRAKEN_SECRET.encode() + b"\n")
        out, err = proc.communicate(timeout=30)
        echoed = b""
        with suppress(OSError):  # EIO once the other side is closed
            while select.select([master], [], [], 0.2)[0]:
                chunk = os.read(master, 1024)
                if not chunk:
                    break
                echoed += chunk
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    assert proc.returncode == 0, err
    for secret in (KRAKEN_SECRET, KRAKEN_KEY):
        assert secret.encode() not in echoed + out + err + prompts
    assert out.decode() == f"saved kraken live in the OS keyring ({SECRET_SERVICE}): API key kraken…\n"
    assert _stored() == {"kraken/live/api_key": KRAKEN_KEY, "kraken/live/secret": KRAKEN_SECRET}


@needs_keyring
@pytest.mark.usefixtures("private_keyring")
def test_kraken_api_key_from_stdin_and_the_old_option_with_a_warning(tmp_path: Path) -> None:
    secret_file = _write(tmp_path, "secret.txt", KRAKEN_SECRET)
    piped = cred(
        "set", "kraken", "beta", "--api-key-file", "-", "--secret-file", secret_file, stdin=KRAKEN_KEY
    )
    assert piped.returncode == 0, piped.stderr
    assert piped.stderr == ""
    assert _stored() == {"kraken/beta/api_key": KRAKEN_KEY, "kraken/beta/secret": KRAKEN_SECRET}
    # Scripts that still pass the key itself keep working, and are told why not to.
    old = cred("set", "kraken", "live", "--api-key", KRAKEN_KEY, "--secret-file", secret_file)
    assert old.returncode == 0, old.stderr
    assert "warning: --api-key shows the key in the process list" in old.stderr
    assert KRAKEN_KEY not in old.stderr and KRAKEN_SECRET not in old.stderr + old.stdout
    # stdin can feed one half only; both options together are a usage error before anything is read.
    both = cred("set", "kraken", "live", "--api-key-file", "-", "--secret-file", "-", stdin=KRAKEN_SECRET)
    assert both.returncode == 2
    assert "stdin can carry only one of --api-key-file and --secret-file" in error_line(both)
    clash = cred("set", "kraken", "live", "--api-key", KRAKEN_KEY, "--api-key-file", KEY_FILE)
    assert clash.returncode == 2
    assert "not allowed with argument" in error_line(clash)
    missing = cred("set", "kraken", "live", "--secret-file", secret_file)  # no terminal to ask on
    assert missing.returncode == 2
    assert "give the API key with --api-key-file FILE" in error_line(missing)
    assert_no_secret(missing, KRAKEN_SECRET)


@needs_keyring
@pytest.mark.usefixtures("private_keyring")
def test_the_dialog_and_the_command_see_each_others_entries(
    qtbot: QtBot, qloop: object, tmp_path: Path
) -> None:
    from app.ui.credentials_dialog import CredentialsDialog

    def dialog() -> CredentialsDialog:
        dlg = CredentialsDialog(SecretStore())
        qtbot.addWidget(dlg)
        qtbot.waitUntil(lambda: not dlg.busy, timeout=WAIT_MS)
        return dlg

    def show(dlg: CredentialsDialog, venue: str, env: str) -> str:
        dlg.select(venue, env)
        qtbot.waitUntil(lambda: not dlg.busy, timeout=WAIT_MS)
        return dlg.saved_label.text()

    # Stored by the command, shown by the dialog.
    stored = cred(
        "set", "kraken", "beta", "--api-key-file", KEY_FILE, "--secret-file", "-", stdin=KRAKEN_SECRET
    )
    assert stored.returncode == 0, stored.stderr
    dlg = dialog()
    assert show(dlg, "kraken", "beta") == "saved in the OS keyring — API key kraken…"

    # Stored by the dialog, listed, tested and deleted by the command.
    show(dlg, "kalshi", "demo")
    dlg.key_id_edit.setText(KEY_ID)
    dlg.import_pem_file(_write(tmp_path, "ed.pem", ED_PEM))
    with qtbot.waitSignal(dlg.saved, timeout=WAIT_MS):
        dlg.save_button.click()
    qtbot.waitUntil(lambda: not dlg.busy, timeout=WAIT_MS)
    listed = cred("list").stdout.splitlines()
    assert f"kalshi  demo        saved       key id {KEY_ID}, Ed25519 key" in listed
    assert "kraken  beta        saved       API key kraken…" in listed
    public = tmp_path / "public.pem"
    public.write_bytes(_public_pem(ED_KEY))
    with simulator("--kalshi-public-key", str(public)) as urls:
        assert cred("test", "kalshi", "demo", "--rest-url", urls["kalshi_rest"]).returncode == 0
    assert cred("delete", "kalshi", "demo").returncode == 0
    assert show(dlg, "kraken", "beta").startswith("saved")
    assert show(dlg, "kalshi", "demo") == "not set"
