#!/usr/bin/env python3
"""`make bench`: pipeline, incremental and export throughput next to their floors. See `--help`."""

import sys

from braze_currents.devtools.bench import main

if __name__ == "__main__":
    sys.exit(main())
