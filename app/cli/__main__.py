"""``python -m app.cli``: how a child process starts this program from a source tree."""

import sys

from app.cli.main import main

sys.exit(main())
