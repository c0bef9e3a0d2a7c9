"""Network failures in words (issue 19 item 5): a link that cannot connect says what happened and when
it retries, in words a trader reads; the technical text is kept apart, and never carries the request."""

from __future__ import annotations

import asyncio
import socket
import time

import aiohttp
import pytest

from app.core.instruments import Venue
from app.core.store import MarketStore
from app.stream import net_errors
from app.stream.kraken_link import KrakenLink
from app.stream.state import ConnState


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.asyncio
async def test_a_link_to_a_closed_port_says_so_in_words_and_counts_down() -> None:
    port = _closed_port()
    link = KrakenLink(f"ws://127.0.0.1:{port}/v2", f"http://127.0.0.1:{port}", MarketStore(), ["BTC/USD"])
    link.start()
    try:
        deadline = time.monotonic() + 10
        while link.state is not ConnState.BACKING_OFF and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        reason = link.transitions[-1].reason
        assert reason.startswith(f"127.0.0.1 refused the connection (nothing listening on port {port})")
        assert "; retrying in " in reason and reason.endswith(" s")  # whole seconds, as the bar counts
        assert "ClientConnectorError" not in reason
        assert link.last_error_detail is not None and "ClientConnectorError" in link.last_error_detail
        assert link.store.books[Venue.KRAKEN] == {}
    finally:
        await link.stop()


@pytest.mark.asyncio
async def test_the_words_for_each_kind_of_failure() -> None:
    dns = aiohttp.ClientConnectorDNSError(
        aiohttp.client_reqrep.ConnectionKey("ws.kraken.com", 443, True, True, None, None, None),
        OSError(-2, "Name or service not known"),
    )
    assert net_errors.in_words(dns, "ws.kraken.com") == "no network: cannot look up ws.kraken.com"
    assert "Name or service not known" in net_errors.detail(dns)
    assert net_errors.in_words(TimeoutError(), "h") == "timed out: h did not answer"
    assert net_errors.in_words(aiohttp.ServerDisconnectedError(), "h") == "h closed the connection"
    unreachable = OSError(101, "Network is unreachable")
    assert net_errors.in_words(unreachable, "h") == "network error with h (Network is unreachable)"
