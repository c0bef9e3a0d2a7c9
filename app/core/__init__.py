"""Venue-neutral types and state. Imports no Qt and no sockets."""
