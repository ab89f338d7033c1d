"""Keep the API key out of everything the exporter prints, logs or writes."""

from __future__ import annotations

import json
import logging
import threading

MASK = "[REDACTED]"


class Redactor:
    """Replaces every registered secret by a mask. One instance per process, filled at start."""

    def __init__(self) -> None:
        self._secrets: tuple[str, ...] = ()
        self._lock = threading.Lock()

    def add(self, secret: str | None) -> None:
        """Registers ``secret`` as given, without surrounding whitespace, and escaped as
        ``repr`` and JSON write it (an exception or a report may hold any of these forms)."""
        if not secret:
            return
        forms = {secret, secret.strip(), repr(secret)[1:-1], json.dumps(secret)[1:-1]}
        with self._lock:
            known = set(self._secrets) | {form for form in forms if form}
            # Longest first, so a secret that contains another is masked whole.
            self._secrets = tuple(sorted(known, key=len, reverse=True))

    def clear(self) -> None:
        with self._lock:
            self._secrets = ()

    def scrub(self, text: object) -> str:
        out = str(text)
        for secret in self._secrets:
            if secret in out:
                out = out.replace(secret, MASK)
        return out


REDACTOR = Redactor()


def scrub(text: object) -> str:
    return REDACTOR.scrub(text)


class RedactingFilter(logging.Filter):
    """A logging filter that renders each record and masks secrets in the result."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = scrub(message)
        if record.exc_info:
            # Render the traceback now, scrubbed, instead of letting the formatter do it later.
            clean = clean + "\n" + scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
            record.exc_text = None
        record.msg, record.args = clean, None
        return True
