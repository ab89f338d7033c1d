#!/usr/bin/env python3
"""Run a local Braze REST emulator (see docs/exporter.md, "The emulator")."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from braze_currents.emulator.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
