#!/usr/bin/env python3
"""Export a dbt model to Braze. See docs/exporter.md; `--help` lists every flag."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from braze_currents.exporter.cli import main

if __name__ == "__main__":
    sys.exit(main())
