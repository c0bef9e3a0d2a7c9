"""Alerts: rules on markets, evaluated on the same events the store applies, fired once or every time.

Qt-free and I/O-free; the store calls the engine's per-market hooks (``core.store.MarketHook``) as it
applies each frame, so a cross that lasts one message fires, on any source (live links, replay). The
window and ``market-monitor stream --alert`` only show, sound and notify what the engine decided.
Imports ``core`` only.
"""
