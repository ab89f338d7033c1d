#!/usr/bin/env python3
"""Load Braze Currents batches into the DuckDB warehouse. See `--help`."""

import sys

from braze_currents.load_cli import main

if __name__ == "__main__":
    sys.exit(main())
