"""The embedded exchange: a local Kalshi + Kraken server driven by a seeded random market.

Written from ``../shared/protocol`` (server side), not by inverting the app's client codecs, so that
one misunderstanding cannot hide on both sides. Nothing here imports ``app.venues``.
"""
