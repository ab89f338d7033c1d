#!/usr/bin/env python3
"""Run a local Braze REST emulator (see docs/exporter.md, "The emulator"). See `--help`."""

import sys

from braze_currents.devtools.emulator.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
