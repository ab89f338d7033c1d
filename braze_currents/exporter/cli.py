"""``export_to_braze.py``: parse the settings once, run the export, print and write the result."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence

from braze_currents.exporter.export import EXIT_ERROR, Export
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


class _StopSignals:
    """SIGTERM (CI cancelling a job) and Ctrl-C: while the export sends, they stop it cleanly
    (``Export.interrupt``); before that they interrupt it as Ctrl-C does."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self) -> None:
        self.export: Export | None = None
        self._previous: dict[int, object] = {}

    def handle(self, signum: int, frame: object) -> None:
        if self.export is None or not self.export.interrupt():
            raise KeyboardInterrupt

    def __enter__(self) -> _StopSignals:
        if threading.current_thread() is threading.main_thread():
            for sig in self.SIGNALS:
                self._previous[sig] = signal.signal(sig, self.handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs one export; returns the exit code (0 delivered, 1 could not run, 2 invalid rows,
    3 rows not delivered)."""
    REDACTOR.add(os.environ.get(API_KEY_ENV))
    handler = _logging()
    try:
        with _StopSignals() as stop_signals:
            settings = parse_settings(argv)
            REDACTOR.add(settings.api_key)
            stop_signals.export = Export(settings)
            result = stop_signals.export.run()
        report = result.report
        print(scrub(f"export_to_braze: {sent_line(report, float(report['seconds']))}"), flush=True)
        if settings.report_path:
            log.info("report written to %s", settings.report_path)
        return result.exit_code
    except ConfigError as exc:
        log.error("%s", exc)
        return EXIT_ERROR
    except KeyboardInterrupt:
        log.error("interrupted")
        return EXIT_ERROR
    except Exception as exc:
        log.error("export failed: %s: %s", type(exc).__name__, scrub(exc))
        return EXIT_ERROR
    finally:
        log.removeHandler(handler)
