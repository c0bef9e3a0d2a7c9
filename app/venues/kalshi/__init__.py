"""Kalshi Trade API WebSocket v2: handshake, commands and frame decoding (protocol only)."""
