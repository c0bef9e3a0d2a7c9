"""The simulated Kraken exchange: pair model, wire builders, WebSocket session and REST handlers."""
