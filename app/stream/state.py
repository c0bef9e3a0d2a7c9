"""A connection's state, and why it changed."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum


class ConnState(StrEnum):
    IDLE = "idle"
    CONNECTING = "connecting"
    AUTHENTICATING = "authenticating"  # fetching a token / signed handshake under way
    LIVE = "live"  # subscribed and data flowing
    BACKING_OFF = "backing-off"
    CREDENTIALS_REJECTED = "credentials-rejected"  # 401/403: waits long, does not hammer
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Transition:
    state: ConnState
    reason: str
    at: float = field(default_factory=time.time)
