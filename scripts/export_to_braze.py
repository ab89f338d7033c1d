#!/usr/bin/env python3
"""Export a dbt model to Braze's REST API. See docs/exporter.md and `--help`."""

import sys

from braze_currents.exporter.cli import main

if __name__ == "__main__":
    sys.exit(main())
