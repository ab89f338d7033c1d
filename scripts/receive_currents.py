#!/usr/bin/env python3
"""Receive Braze Currents (Custom HTTP connector) into an fsync'd spool. See `--help`."""

import sys

from braze_currents.receiver.cli import main

if __name__ == "__main__":
    sys.exit(main())
