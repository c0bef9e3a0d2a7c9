"""Every ``market-monitor`` command: the argument parser, the headless tools (replay, stream, sim,
credentials, about) and the benchmarks. The window starts from ``app.cli.window``."""
