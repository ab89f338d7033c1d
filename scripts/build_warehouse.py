#!/usr/bin/env python3
"""The scheduled dbt build: only what new loads reach. See `--help`."""

import sys

from braze_currents.scheduled_build import main

if __name__ == "__main__":
    sys.exit(main())
