"""``scripts/receive_currents.py``: serve Currents' Custom HTTP connector into a spool."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import ssl
from pathlib import Path

from braze_currents.receiver.spool import SpoolBusy

TOKEN_ENV = "CURRENTS_RECEIVER_TOKEN"  # noqa: S105 (the variable's name, not a token)
EXIT_OK, EXIT_CANNOT_START, EXIT_USAGE = 0, 1, 2


def _size(text: str) -> int:
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    t = text.strip().lower().removesuffix("b").removesuffix("i")
    try:
        value = int(float(t[:-1]) * units[t[-1]]) if t and t[-1] in units else int(t)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 32M, 500k)") from exc
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return value


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from exc
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="receive_currents.py",
        description="Receive Braze Currents (Custom HTTP connector) into an fsync'd NDJSON "
        "spool: POST / or /currents, answered 200 only once the body is on disk. "
        f"The bearer token comes from ${TOKEN_ENV} only. "
        "Load the spool with scripts/load_currents.py --spool DIR.",
    )
    p.add_argument("--spool", required=True, type=Path, help="spool directory (created)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port (default 8080; 0: any free)")
    p.add_argument(
        "--max-body", type=_size, default="32M", help="largest body accepted (default 32M)"
    )
    p.add_argument(
        "--rotate-size",
        type=_size,
        default="64M",
        help="close a spool file once it holds this much (default 64M)",
    )
    p.add_argument(
        "--rotate-seconds",
        type=_positive,
        default=60.0,
        help="close a spool file this long after it was opened (default 60)",
    )
    p.add_argument(
        "--lanes",
        type=int,
        choices=range(1, 33),
        metavar="N",
        default=4,
        help="spool files written and fsync'd in parallel, each by its own thread (default 4)",
    )
    p.add_argument("--tls-cert", type=Path, help="PEM certificate chain: serve HTTPS")
    p.add_argument("--tls-key", type=Path, help="PEM private key of --tls-cert")
    p.add_argument(
        "--allow-no-token",
        action="store_true",
        help=f"accept posts without a bearer token when ${TOKEN_ENV} is unset (not advised)",
    )
    p.add_argument(
        "--stats-seconds", type=_positive, default=60.0, help="log a stats line this often"
    )
    p.add_argument(
        "--read-seconds",
        type=_positive,
        default=60.0,
        help="answer 408 to a client that takes longer to send its body (default 60)",
    )
    p.add_argument(
        "--shutdown-seconds",
        type=_positive,
        default=30.0,
        help="on SIGTERM, wait this long for requests in flight (default 30)",
    )
    p.add_argument("--access-log", action="store_true", help="log every request")
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # Surrounding whitespace (a newline from a secrets file) is never part of the token.
    token = (os.environ.get(TOKEN_ENV) or "").strip() or None
    if token is None and not args.allow_no_token:
        parser.error(f"set {TOKEN_ENV} (the bearer token Braze sends), or pass --allow-no-token")
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    # aiohttp is imported here, not at import time: --help and errors stay instant.
    from braze_currents.receiver.server import ReceiverSettings, configure_logging, serve

    configure_logging(args.log_level)
    settings = ReceiverSettings(
        spool_dir=args.spool,
        host=args.host,
        port=args.port,
        token=token,
        max_body_bytes=args.max_body,
        rotate_bytes=args.rotate_size,
        rotate_seconds=args.rotate_seconds,
        lanes=args.lanes,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        stats_seconds=args.stats_seconds,
        read_seconds=args.read_seconds,
        shutdown_seconds=args.shutdown_seconds,
        access_log=args.access_log,
    )
    log = logging.getLogger("braze_currents.receiver")
    try:
        return asyncio.run(serve(settings))
    except SpoolBusy as exc:
        log.error("another receiver uses this spool", extra={"fields": {"error": str(exc)}})
    except (ssl.SSLError, OSError) as exc:
        log.error("cannot start", extra={"fields": {"error": str(exc)}})
    return EXIT_CANNOT_START
