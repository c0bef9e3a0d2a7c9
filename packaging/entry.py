"""The binary's entry point: the same ``market-monitor`` command as the installed package."""

import sys

from app.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
