#!/usr/bin/env python3
"""Write simulated Braze Currents batches. See `--help`."""

import sys

from braze_currents.devtools.generate_cli import main

if __name__ == "__main__":
    sys.exit(main())
