#!/usr/bin/env python3
"""Write simulated Braze Currents batches. See `--help`."""

import sys

from braze_currents.generate_cli import main

if __name__ == "__main__":
    sys.exit(main())
