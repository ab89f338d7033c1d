"""``export_to_braze.py``: parse the settings once, run the export, print and write the result."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence

from braze_currents.exporter.export import EXIT_ERROR, run_export
from braze_currents.exporter.redact import REDACTOR, RedactingFilter, scrub
from braze_currents.exporter.report import sent_line
from braze_currents.exporter.settings import API_KEY_ENV, ConfigError, parse_settings

log = logging.getLogger("braze_currents.exporter")


def _logging() -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("export_to_braze: %(levelname)s %(message)s"))
    handler.addFilter(RedactingFilter())
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    return handler


def _on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Runs one export; returns the exit code (0 delivered, 1 could not run, 2 invalid rows,
    3 rows not delivered)."""
    REDACTOR.add(os.environ.get(API_KEY_ENV))
    handler = _logging()
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        try:
            settings = parse_settings(argv)
            REDACTOR.add(settings.api_key)
            result = run_export(settings)
        except ConfigError as exc:
            log.error("%s", exc)
            return EXIT_ERROR
        except KeyboardInterrupt:
            log.error("interrupted")
            return EXIT_ERROR
        except Exception as exc:
            log.error("export failed: %s: %s", type(exc).__name__, scrub(exc))
            return EXIT_ERROR
        report = result.report
        print(scrub(f"export_to_braze: {sent_line(report, float(report['seconds']))}"), flush=True)
        if settings.report_path:
            log.info("report written to %s", settings.report_path)
        return result.exit_code
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        log.removeHandler(handler)
