"""What happened to every row: counters, the rejects list, the JSON report and the summary.

Every row of the model ends in exactly one bucket:
``sent + already_delivered + unchanged + skipped_invalid + invalid + not_sent + would_send +
rejected_by_braze + failed == rows``. ``invalid``: rows that stopped a run without
``--skip-on-invalid-records``; ``not_sent``: valid rows a stopped run did not get to;
``would_send``: what a dry run would have sent.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from collections import Counter
from pathlib import Path

from braze_currents.exporter.redact import scrub

BUCKETS = (
    "sent",
    "already_delivered",
    "unchanged",
    "skipped_invalid",
    "invalid",
    "not_sent",
    "would_send",
    "rejected_by_braze",
    "failed",
)
MAX_REASONS = 50
MAX_UNMAPPED = 100


class Tally:
    """Thread-safe counters and a spooled list of the rows that were not delivered."""

    def __init__(self, spool_dir: Path | None = None) -> None:
        self._lock = threading.RLock()
        self.counts: Counter[str] = Counter()
        self.reasons: Counter[str] = Counter()
        self.unmapped_errors: list[str] = []
        handle, name = tempfile.mkstemp(prefix="braze-rejects-", suffix=".ndjson", dir=spool_dir)
        self._rejects_path = Path(name)
        self._rejects = os.fdopen(handle, "w", encoding="utf-8")
        self.rejects_count = 0

    def add(self, name: str, n: int = 1, **more: int) -> None:
        """Adds ``n`` to counter ``name`` (and each of ``more``), in one locked step."""
        with self._lock:
            self.counts[name] += n
            for other, value in more.items():
                self.counts[other] += value

    def reject(self, status: str, row: int, key: str, reason: str) -> None:
        """A row that was not delivered: ``status`` is its bucket (skipped_invalid, ...)."""
        reason = scrub(reason)
        line = json.dumps(
            {"row": row, "row_key": scrub(key), "status": status, "reason": reason},
            ensure_ascii=False,
        )
        with self._lock:
            self.counts[status] += 1
            if len(self.reasons) < MAX_REASONS or reason in self.reasons:
                self.reasons[reason] += 1
            self._rejects.write(line + "\n")
            self.rejects_count += 1

    def unmapped(self, text: str) -> None:
        with self._lock:
            if len(self.unmapped_errors) < MAX_UNMAPPED:
                self.unmapped_errors.append(scrub(text))

    def summary(self) -> dict[str, object]:
        with self._lock:
            counts = dict(self.counts)
        out: dict[str, object] = {"rows": counts.get("rows", 0)}
        for name in BUCKETS:
            out[name] = counts.get(name, 0)
        for name in (
            "requests",
            "retries",
            "rate_limited",
            "splits",
            "dry_run_requests",
            "data_points_sent",
            "data_points_would_send",
            "data_points_saved_by_delta",
        ):
            out[name] = counts.get(name, 0)
        return out

    def write(self, path: Path, header: dict[str, object]) -> None:
        """The JSON report: ``header`` fields, the counters, then every reject, streamed."""
        with self._lock:
            self._rejects.flush()
            body = {
                **header,
                **self.summary(),
                "reject_reasons": dict(self.reasons.most_common()),
                "unmapped_errors": list(self.unmapped_errors),
                "rejects_count": self.rejects_count,
            }
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp")
            with open(tmp, "w", encoding="utf-8") as out:
                head = json.dumps(body, ensure_ascii=False, indent=2)
                out.write(scrub(head[:-2]) + ',\n  "rejects": [')
                with open(self._rejects_path, encoding="utf-8") as rejects:
                    for n, line in enumerate(rejects):
                        out.write(("\n    " if n == 0 else ",\n    ") + line.rstrip("\n"))
                out.write("\n  ]\n}\n")
            tmp.replace(path)

    def close(self) -> None:
        with self._lock:
            self._rejects.close()
            with contextlib.suppress(OSError):
                self._rejects_path.unlink()


def sent_line(summary: dict[str, object], seconds: float) -> str:
    """The one-paragraph summary printed at the end of a run."""
    parts = [f"{summary['rows']} rows"]
    for name in BUCKETS:
        if summary.get(name):
            parts.append(f"{summary[name]} {name.replace('_', ' ')}")
    parts.append(f"{summary['requests']} requests")
    parts.append(f"{summary['retries']} retries")
    if summary.get("rate_limited"):
        parts.append(f"{summary['rate_limited']} rate-limited")
    if summary.get("data_points_saved_by_delta"):
        parts.append(f"{summary['data_points_saved_by_delta']} data points saved by --delta")
    parts.append(f"{seconds:.1f}s")
    return ", ".join(parts)
