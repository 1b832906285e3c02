"""``python -m deepsentinel``: the same command line as ``deepsentinel``."""

from __future__ import annotations

import sys

from deepsentinel.cli.app import main

if __name__ == "__main__":
    sys.exit(main())
