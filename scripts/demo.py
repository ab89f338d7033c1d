#!/usr/bin/env python3
"""`make demo`: generate, load, build, export, and say what happened."""

import sys

from braze_currents.devtools.demo import main

if __name__ == "__main__":
    sys.exit(main())
