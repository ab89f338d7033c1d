"""The Currents receiver: Braze's Custom HTTP connector posts here, an fsync'd spool keeps it.

``server`` (aiohttp) answers the posts; ``spool`` owns the files on disk, for the receiver and
for ``scripts/load_currents.py --spool``; ``body`` holds the pure checks of one request.
Importing this package imports neither aiohttp nor DuckDB.
"""
