"""Pure venue protocols: handshakes, commands, frame decoding. No sockets, no Qt."""
