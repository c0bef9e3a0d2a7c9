"""The simulated Kalshi exchange: market model, wire builders, WebSocket session and REST handlers."""
