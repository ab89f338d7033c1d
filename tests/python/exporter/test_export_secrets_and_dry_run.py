"""The API key never leaves the process except in the Authorization header; dry runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from braze_currents.devtools.sandbox import events_sql
from braze_currents.exporter.settings import ConfigError, parse_settings

ROOT = Path(__file__).resolve().parents[3]
ARGS = ["--model", "events", "--mode", "user_track", "--track-record-type", "custom_events"]
KEY = "test-key-Zx81-secret"


def _everything(result, *paths: Path) -> str:
    texts = [result.out, result.err, json.dumps(result.report)]
    texts += [p.read_text() for p in paths if p.exists()]
    return "\n".join(texts)


def test_key_absent_from_output_of_a_good_run(box, emu, run):
    box.add_model("events", events_sql(100))
    result = run(*ARGS)
    assert result.code == 0
    assert KEY not in _everything(result)


def test_key_absent_even_when_the_server_echoes_it(box, emu, run):
    box.add_model("events", events_sql(100))
    emu.config.echo_key_in_errors = True
    emu.config.keys = {"another-key": {"users.track"}}
    result = run(*ARGS)
    assert result.code == 3
    assert "Invalid API key" in result.report["stopped_reason"]
    assert KEY not in _everything(result)
    assert "[REDACTED]" in result.report["stopped_reason"]


def test_key_absent_from_dry_run_output(box, emu, run, tmp_path):
    box.add_model("events", events_sql(100))
    out = tmp_path / "requests.ndjson"
    result = run(*ARGS, "--dry-run", "--dry-run-output", str(out))
    assert result.code == 0
    assert KEY not in _everything(result, out)


def test_key_absent_from_errors_and_tracebacks(box, emu, run, monkeypatch):
    box.add_model("events", events_sql(10))

    def boom(*args, **kwargs):
        raise RuntimeError(f"something broke near {KEY}")

    monkeypatch.setattr("braze_currents.exporter.export.Export._deliver", boom)
    result = run(*ARGS)
    assert result.code == 1
    assert "something broke" in result.err and KEY not in result.err


def test_key_is_not_accepted_on_the_command_line(box, emu, run):
    box.add_model("events", events_sql(1))
    result = run(*ARGS, "--api-key", KEY)
    assert result.code == 1 and "BRAZE_API_KEY" in result.err
    assert KEY not in result.err


def test_settings_repr_hides_the_key():
    settings = parse_settings(
        ARGS, {"BRAZE_API_KEY": KEY, "BRAZE_REST_ENDPOINT": "https://rest.iad-01.braze.com"}
    )
    assert settings.api_key == KEY
    assert KEY not in repr(settings) and KEY not in str(settings)


def test_key_absent_from_a_real_process_output(box, emu, tmp_path):
    box.add_model("events", events_sql(50))
    report = tmp_path / "report.json"
    env = {**os.environ, **box.env(), **emu.env(), "CI": "true"}
    script = str(ROOT / "scripts" / "export_to_braze.py")
    done = subprocess.run(
        [sys.executable, script, *ARGS, "--report", str(report)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "50 sent" in done.stdout
    assert KEY not in done.stdout + done.stderr + report.read_text()


def test_dry_run_writes_every_request_and_sends_none(box, emu, run, tmp_path):
    box.add_model("events", events_sql(160))
    out = tmp_path / "dry" / "requests.ndjson"
    result = run(*ARGS, "--dry-run", "--dry-run-output", str(out))
    assert result.code == 0
    assert emu.store.requests == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [len(r["body"]["events"]) for r in lines] == [75, 75, 10]
    assert all(r["method"] == "POST" and r["path"] == "/users/track" for r in lines)
    assert sorted(row for r in lines for row in r["rows"]) == list(range(1, 161))
    assert result.report["would_send"] == 160 and result.report["dry_run_requests"] == 3
    # a dry run records nothing in the ledger: the real run sends everything
    real = run(*ARGS)
    assert real.report["sent"] == 160


def test_dry_run_needs_no_key_or_endpoint(box, emu, run, tmp_path, monkeypatch):
    box.add_model("events", events_sql(5))
    monkeypatch.delenv("BRAZE_API_KEY", raising=False)
    out = tmp_path / "r.ndjson"
    result = run(*ARGS, "--dry-run", "--dry-run-output", str(out), env={"BRAZE_API_KEY": ""})
    assert result.code == 0, result.err
    assert out.exists()


def test_dry_run_with_invalid_rows_exits_2_and_writes_nothing(box, emu, run, tmp_path):
    box.add_model("events", "SELECT 'u1' AS external_id, 'e' AS name, 'never' AS time")
    out = tmp_path / "r.ndjson"
    result = run(*ARGS, "--dry-run", "--dry-run-output", str(out))
    assert result.code == 2 and not out.exists()


def test_missing_key_is_a_clear_error(box, emu, run):
    box.add_model("events", events_sql(5))
    result = run(*ARGS, env={"BRAZE_API_KEY": ""})
    assert result.code == 1 and "BRAZE_API_KEY is not set" in result.err


def test_key_with_a_trailing_newline_is_stripped_and_never_shown(box, emu, run):
    # file-backed secrets often end in a newline; http.client used to raise a ValueError
    # holding the key, printed on stderr and written in the report for every batch
    box.add_model("events", events_sql(20))
    result = run(*ARGS, env={"BRAZE_API_KEY": KEY + "\n"})
    assert result.code == 0, result.err
    assert result.report["sent"] == 20
    assert KEY not in _everything(result)


def test_settings_strip_surrounding_whitespace_of_the_key():
    env = {"BRAZE_API_KEY": f" \t{KEY}\r\n", "BRAZE_REST_ENDPOINT": "https://rest.iad-01.braze.com"}
    assert parse_settings(ARGS, env).api_key == KEY


def test_key_with_inner_whitespace_or_control_characters_is_refused_unshown(box, emu, run):
    box.add_model("events", events_sql(5))
    for bad in ("test-key Zx81-secret", "test-key\nZx81-secret", "test-key\x7fZx81-secret"):
        result = run(*ARGS, env={"BRAZE_API_KEY": bad})
        assert result.code == 1, bad
        assert "BRAZE_API_KEY" in result.err
        assert "Zx81" not in _everything(result)
        assert emu.store.requests == 0
    env = {"BRAZE_API_KEY": "a\x00b-Zx81", "BRAZE_REST_ENDPOINT": "https://rest.iad-01.braze.com"}
    with pytest.raises(ConfigError) as caught:
        parse_settings(ARGS, env)
    assert "Zx81" not in str(caught.value)


def test_unexpected_error_text_is_redacted_in_the_report(box, emu, run, monkeypatch):
    # an exception raised while sending a batch lands in the report's rejects: scrubbed
    box.add_model("events", events_sql(10))

    def boom(self, path, body):
        raise ValueError(f"Invalid header value b'Bearer {KEY}\\n'")

    monkeypatch.setattr("braze_currents.exporter.client.BrazeClient.post", boom)
    result = run(*ARGS)
    assert result.code == 3
    assert result.report["failed"] == 10
    assert KEY not in _everything(result)
    assert "[REDACTED]" in json.dumps(result.report["rejects"])


def test_a_dry_run_counts_data_points_it_would_send_not_sent(box, emu, run, tmp_path):
    box.add_model("events", events_sql(30))
    result = run(*ARGS, "--dry-run", "--dry-run-output", str(tmp_path / "r.ndjson"))
    assert result.code == 0
    assert result.report["data_points_sent"] == 0
    assert result.report["data_points_would_send"] == 30


def test_missing_key_and_endpoint_are_reported_together(box, emu, run):
    box.add_model("events", events_sql(5))
    result = run(*ARGS, env={"BRAZE_API_KEY": "", "BRAZE_REST_ENDPOINT": ""})
    assert result.code == 1
    assert "BRAZE_REST_ENDPOINT" in result.err and "BRAZE_API_KEY" in result.err
    assert result.err.count("ERROR") == 1
