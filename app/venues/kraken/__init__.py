"""Kraken Spot WebSocket API v2: endpoints, token signing, commands, decoding (protocol only)."""
