"""``market-monitor bench``: benchmarks that print figures (codecs, the simulator's blast, the stream
engine from socket to store, the window under a paced feed)."""
