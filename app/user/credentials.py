"""API credentials per venue and environment, without Qt: which sets there are, their keyring names, how
entered or imported input is checked, and how a pair is written so that half a pair never stays behind.

Shared by File → Credentials… (app/ui/credentials_dialog.py) and ``market-monitor credentials``
(app/cli/credentials.py), so both manage the same keyring entries and word their refusals the same way.
Messages never contain secret text. The keyring and the key parsers are imported when first used, so the
command line can build its parser from ``TARGETS`` without loading them.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.instruments import ENVIRONMENTS, Environment, Venue
from app.venues.kalshi import endpoints as kalshi_endpoints
from app.venues.kraken import endpoints as kraken_endpoints

if TYPE_CHECKING:
    from app.user.secret_store import SecretStore

MAX_PEM_BYTES = 64 * 1024  # a 4096-bit RSA key is about 3.3 KB; anything far bigger is not a key file


class CredentialInputError(ValueError):
    """Entered or imported credentials that cannot be stored; the message never holds secret text."""


@dataclass(frozen=True, slots=True)
class Target:
    """One venue environment's credential pair: an identifier and a secret."""

    venue: Venue
    env: Environment

    @property
    def label(self) -> str:
        return f"{self.venue.capitalize()} — {self.env}"

    @property
    def fields(self) -> tuple[str, str]:
        """(identifier, secret) field names in the keyring."""
        from app.user.secret_store import KALSHI_FIELDS, KRAKEN_FIELDS

        ident, secret = KALSHI_FIELDS if self.venue is Venue.KALSHI else KRAKEN_FIELDS
        return ident, secret

    @property
    def names(self) -> tuple[str, str]:
        """(identifier, secret) names in the keyring, e.g. ``kalshi/production/key_id``."""
        from app.user.secret_store import secret_name

        ident, secret = (secret_name(self.venue, self.env, f) for f in self.fields)
        return ident, secret

    @property
    def ident_label(self) -> str:
        return "key id" if self.venue is Venue.KALSHI else "API key"

    @property
    def secret_label(self) -> str:
        return "private key" if self.venue is Venue.KALSHI else "secret"


# The simulator needs no stored key, and "off" is no venue at all: only real environments keep one.
TARGETS = tuple(Target(v, e) for v in Venue for e in ENVIRONMENTS[v] if e.is_real)


def find_target(venue: Venue | str, env: Environment | str) -> Target:
    for t in TARGETS:
        if (t.venue, t.env) == (venue, env):
            return t
    raise ValueError(f"no credentials for {venue}/{env}")


def envs_of(venue: Venue | str) -> tuple[Environment, ...]:
    """The environments of ``venue`` that keep credentials (Kalshi production/demo, Kraken live/beta)."""
    return tuple(t.env for t in TARGETS if t.venue == venue)


def default_rest_url(t: Target) -> str:
    """Where "Test connection" goes for ``t``: the venue's REST API for that environment."""
    return kalshi_endpoints.rest_url(t.env) if t.venue is Venue.KALSHI else kraken_endpoints.REST_BASE


def default_rest_urls() -> dict[tuple[str, str], str]:
    return {(t.venue, t.env): default_rest_url(t) for t in TARGETS}


def shown_ident(t: Target, ident: str) -> str:
    """The identifier as it may be shown: a Kalshi key id is not secret; a Kraken API key is half a
    credential, so only enough of it to recognise it, not to copy it."""
    if t.venue is Venue.KALSHI:
        return ident
    return ident[:6] + "…" if len(ident) > 10 else "…"


# ---------------------------------------------------------------------------------------- input


def pem_text(data: bytes, name: str) -> str:
    """The text of a private key file's bytes (not yet parsed). ``name`` is how to call the file."""
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        text = ""
    if not text.strip() or len(data) > MAX_PEM_BYTES:
        raise CredentialInputError(f"bad key format: {name} is not a PEM text file")
    return text


def read_key_file(path: str, name: str, limit: int) -> bytes:
    """At most ``limit + 1`` bytes of a key file (enough to tell it is too big). Errors call it ``name``,
    never by the path, which may be key material typed in the wrong place."""
    try:
        with open(path, "rb") as fh:
            return fh.read(limit + 1)
    except OSError as exc:
        raise CredentialInputError(f"cannot read {name}: {exc.strerror or type(exc).__name__}") from None


def read_pem_file(path: str, name: str | None = None) -> str:
    """A private key file's text (not yet parsed). Errors call it ``name``, by default its file name
    (not where it is)."""
    name = Path(path).name if name is None else name
    return pem_text(read_key_file(path, name, MAX_PEM_BYTES), name)


def describe_kalshi_key(pem: str) -> str:
    """``"Ed25519 key"`` or ``"RSA-2048 key"``; raises ``KeyFormatError`` (no key text in it)."""
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

    from app.venues.kalshi.auth import load_private_key

    key = load_private_key(pem.strip().encode())
    return f"RSA-{key.key_size} key" if isinstance(key, RSAPrivateKey) else "Ed25519 key"


KRAKEN_SECRET_BYTES = 64  # base64 of 64 bytes: 88 characters (protocol/kraken.md §auth example)


def kraken_secret_problem(secret: str) -> str | None:
    """Why ``secret`` cannot be a Kraken API secret (it is base64 of 64 bytes), or None."""
    text = secret.strip()
    if not text:
        return "the API secret is empty"
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return "the API secret is not valid base64 (copy it again from Kraken)"
    if len(raw) != KRAKEN_SECRET_BYTES:  # a truncated paste decodes fine but could never sign
        return (
            f"the API secret is {len(raw)} bytes once decoded, Kraken's are {KRAKEN_SECRET_BYTES} "
            "(copy all of it again from Kraken)"
        )
    return None


def kalshi_key_kind(pem: str) -> str:
    """``"Ed25519 key"`` or ``"RSA-2048 key"``; raises ``CredentialInputError("bad key format: …")``."""
    from app.venues.kalshi.auth import KeyFormatError

    try:
        return describe_kalshi_key(pem)
    except KeyFormatError as exc:
        raise CredentialInputError(f"bad key format: {exc}") from None


def stored_pem(pem: str) -> str:
    """The form a private key is kept in."""
    return pem.strip() + "\n"


def kalshi_pair(key_id: str, pem: str) -> tuple[str, str]:
    """(key id, private key) ready to store; raises ``CredentialInputError``."""
    ident = key_id.strip()
    if not ident:
        raise CredentialInputError("Enter the API key id.")
    if not pem.strip():
        raise CredentialInputError("Paste the private key or import its PEM file.")
    kalshi_key_kind(pem)
    return ident, stored_pem(pem)


def kraken_pair(api_key: str, secret: str) -> tuple[str, str]:
    """(API key, secret) ready to store; raises ``CredentialInputError``."""
    ident, secret = api_key.strip(), secret.strip()
    if not ident:
        raise CredentialInputError("Enter the API key.")
    if not secret:
        raise CredentialInputError("Enter the API secret.")
    problem = kraken_secret_problem(secret)
    if problem is not None:
        raise CredentialInputError(f"bad key format: {problem}")
    return ident, secret


# ---------------------------------------------------------------------------------------- keyring
# These block (D-Bus, an unlock prompt): the window calls them from a worker thread.


def read_pair(secrets: SecretStore, t: Target) -> tuple[str | None, str | None]:
    """(identifier, secret) as stored, each None when missing. Raises ``KeyringUnavailable``."""
    ident_name, secret_name = t.names
    return secrets.get(ident_name), secrets.get(secret_name)


def write_pair(
    secrets: SecretStore, t: Target, values: tuple[str, str], *, session_only: bool = False
) -> tuple[str | None, bool]:
    """Store (identifier, secret): returns (why it failed or None, whether anything stored changed).

    The secret goes first, so a failure never pairs a new identifier with an old secret unnoticed; if
    the second write fails, both halves are taken out rather than keep a mismatched pair."""
    from app.user.secret_store import KeyringUnavailable

    written = False
    try:
        for name, value in zip(reversed(t.names), reversed(values), strict=True):
            secrets.set(name, value, session_only=session_only)
            written = True
    except KeyringUnavailable as exc:
        if written:
            for name in t.names:
                with contextlib.suppress(KeyringUnavailable):
                    secrets.delete(name)
        return str(exc), written
    return None, True


def delete_pair(secrets: SecretStore, t: Target) -> None:
    """Remove both halves (nothing stored is fine). Raises ``KeyringUnavailable``."""
    for name in t.names:
        secrets.delete(name)
