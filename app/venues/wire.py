"""Frame text -> Python objects, keeping every number's exact text.

One msgspec decoder serves both venues: ``float_hook=str`` hands back a JSON number with a fraction
or exponent as its literal text (Kraken's ``0.10000000`` stays ``"0.10000000"``, which its checksum
needs), integers stay ``int``, and Kalshi's fixed-point strings are strings anyway. About 5x faster
than ``json.loads(parse_float=Decimal)`` on a book update.
"""

from __future__ import annotations

import reprlib
from typing import Any

import msgspec

_decoder = msgspec.json.Decoder(float_hook=str)
_encoder = msgspec.json.Encoder()


class FrameError(ValueError):
    """The frame is not JSON."""


def parse(frame: str | bytes) -> Any:
    try:
        return _decoder.decode(frame)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise FrameError(str(exc)) from None
    except RecursionError:  # arrays or objects nested thousands deep: no venue sends that
        raise FrameError("nested too deep to be a venue frame") from None


def encode(obj: Any) -> str:
    return _encoder.encode(obj).decode()


def excerpt(frame: str | bytes, limit: int = 200) -> str:
    """A short printable piece of a frame for error messages and logs."""
    text = frame.decode("utf-8", "replace") if isinstance(frame, bytes) else frame
    return text if len(text) <= limit else text[:limit] + "..."


_OBJECT_EXCERPT = reprlib.Repr()  # keyword arguments need Python 3.12
_OBJECT_EXCERPT.maxlevel = 8
_OBJECT_EXCERPT.maxstring = 120
_OBJECT_EXCERPT.maxother = 80
_OBJECT_EXCERPT.maxlist = _OBJECT_EXCERPT.maxdict = 12


def excerpt_of(obj: Any, limit: int = 200) -> str:
    """A short printable piece of a parsed frame, for ``Malformed.text``.

    Plain ``repr`` recurses once per nesting level, so a hostile frame nested deeper than the
    interpreter's limit (``[[[[...]]]]``, which the JSON parser accepts) raised
    ``RecursionError`` from the codec's own error path; ``reprlib`` stops at ``maxlevel``.
    """
    return _OBJECT_EXCERPT.repr(obj)[:limit]
