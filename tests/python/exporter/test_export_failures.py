"""Braze misbehaving: every valid row still arrives exactly once, or is reported."""

from __future__ import annotations

import collections
import ssl
import time

import pytest
import trustme

from braze_currents.devtools.emulator import start_emulator
from braze_currents.devtools.sandbox import events_sql

ARGS = ["--model", "events", "--mode", "user_track", "--track-record-type", "custom_events"]


def _exactly_once(emu, n: int) -> None:
    counts = collections.Counter(e["external_id"] for e in emu.store.events)
    assert len(counts) == n, f"{n - len(counts)} rows missing"
    assert max(counts.values()) == 1, [k for k, v in counts.items() if v > 1][:5]


@pytest.mark.parametrize(
    ("style", "lower"), [("seconds", False), ("epoch", False), ("retry-after", True)]
)
def test_429_storm_waits_and_delivers_everything_once(box, emu, run, style, lower):
    box.add_model("events", events_sql(600))
    emu.config.reset_style = style
    emu.config.lowercase_headers = lower
    emu.faults.schedule = {n: 429 for n in range(2, 14)}
    emu.faults.retry_after = 0.05
    started = time.monotonic()
    result = run(*ARGS)
    assert result.code == 0, result.err
    _exactly_once(emu, 600)
    assert result.report["rate_limited"] == 12
    assert result.report["sent"] == 600
    if style == "epoch":  # unix-time resets have one-second resolution: it waited for them
        assert time.monotonic() - started >= 0.5


def test_real_rate_limit_window_is_respected(box, emu, run):
    """The emulator allows 5 requests per 0.5 s; the client's limiter is told 100 per second,
    so it overshoots and must honour the 429s it gets."""
    box.add_model("events", events_sql(750))
    emu.config.track_rate = (5, 0.5)
    from braze_currents.devtools.emulator.server import _Window

    emu._server.state.windows["track"] = _Window(5, 0.5)
    result = run(*ARGS, "--track-rate-limit", "100", "--track-rate-window", "1")
    assert result.code == 0, result.err
    _exactly_once(emu, 750)


def test_5xx_bursts_are_retried(box, emu, run):
    box.add_model("events", events_sql(500))
    emu.faults.schedule = {1: 503, 2: 500, 3: 502, 5: 503, 6: 503, 7: 503}
    result = run(*ARGS)
    assert result.code == 0, result.err
    _exactly_once(emu, 500)
    assert result.report["retries"] >= 6


def test_dropped_connections_are_retried(box, emu, run):
    box.add_model("events", events_sql(750))
    emu.faults.drop_rate = 0.3
    emu.faults.seed = 7
    emu._server.state.rng.seed(7)
    result = run(*ARGS, "--max-retries", "20")
    assert result.code == 0, result.err
    _exactly_once(emu, 750)
    assert emu.store.dropped > 0 and result.report["retries"] >= emu.store.dropped


def test_everything_at_once(box, emu, run):
    box.add_model("events", events_sql(1500))
    emu.faults.drop_rate = 0.1
    emu.faults.error_rate = 0.1
    emu.faults.rate_limit_rate = 0.1
    emu._server.state.rng.seed(11)
    emu.config.latency_jitter = 0.01
    result = run(*ARGS, "--max-retries", "30")
    assert result.code == 0, result.err
    _exactly_once(emu, 1500)


def test_slow_responses_arrive_once(box, emu, run):
    box.add_model("events", events_sql(300))
    emu.config.latency = 0.05
    emu.config.latency_jitter = 0.15
    result = run(*ARGS, "--read-timeout", "5")
    assert result.code == 0, result.err
    _exactly_once(emu, 300)


def test_timeouts_are_retried_and_nothing_is_lost(box, emu, run):
    box.add_model("events", events_sql(150))
    emu.config.latency = 0.3
    emu.faults.schedule = {}
    result = run(*ARGS, "--read-timeout", "0.1", "--max-retries", "2")
    # every attempt times out: reported failed, never silently dropped
    assert result.code == 3
    assert result.report["failed"] == 150
    assert all("no answer" in r["reason"] for r in result.report["rejects"])


def test_5xx_until_retries_run_out_reports_failed_rows(box, emu, run):
    box.add_model("events", events_sql(100))
    emu.faults.error_rate = 1.0
    result = run(*ARGS, "--max-retries", "2")
    assert result.code == 3
    report = result.report
    assert report["failed"] == 100 and report["sent"] == 0
    assert report["retries"] == 2 * 2  # two batches, two retries each
    assert {r["row_key"] for r in report["rejects"]} == {
        f"external_id=user-{i}" for i in range(100)
    }


def test_401_stops_the_job_at_once(box, emu, run):
    box.add_model("events", events_sql(3000))
    started = time.monotonic()
    result = run(*ARGS, env={"BRAZE_API_KEY": "wrong-key"})
    elapsed = time.monotonic() - started
    assert result.code == 3
    assert elapsed < 5
    report = result.report
    assert report["requests"] <= 4  # at most the requests already in flight
    assert report["sent"] == 0
    assert report["failed"] + report["not_sent"] == 3000
    assert "401" in report["stopped_reason"] and "BRAZE_API_KEY" in report["stopped_reason"]
    assert "401" in result.err


def test_403_when_the_key_lacks_the_permission(box, emu, run):
    box.add_model("events", events_sql(10))
    emu.config.keys = {"identify-only": {"users.identify"}}
    result = run(*ARGS, env={"BRAZE_API_KEY": "identify-only"})
    assert result.code == 3
    assert "403" in result.report["stopped_reason"]
    assert "permission" in result.report["stopped_reason"]


def test_413_splits_the_batch(box, emu, run):
    box.add_model("events", events_sql(300))
    emu.config.max_body_bytes = 2500  # ~25 objects per request
    result = run(*ARGS)
    assert result.code == 0, result.err
    _exactly_once(emu, 300)
    assert result.report["splits"] > 0
    assert emu.store.statuses[413] > 0


def test_max_input_length_splits_the_batch(box, emu, run):
    box.add_model("events", events_sql(300))
    emu.config.track_max_objects = 20
    result = run(*ARGS)
    assert result.code == 0, result.err
    _exactly_once(emu, 300)
    assert result.report["splits"] > 0


def test_client_side_byte_limit_keeps_requests_small(box, emu, run):
    box.add_model("events", events_sql(300))
    emu.config.max_body_bytes = 2500
    result = run(*ARGS, "--max-request-bytes", "2500")
    assert result.code == 0, result.err
    assert result.report["splits"] == 0 and emu.store.statuses[413] == 0
    _exactly_once(emu, 300)


def test_201_partial_errors_map_to_the_right_rows(box, emu, run):
    box.add_model("events", events_sql(200))
    bad = {"user-3", "user-80", "user-199"}
    emu.config.reject = lambda array, obj: "blocked_user" if obj.get("external_id") in bad else None
    result = run(*ARGS)
    assert result.code == 3
    report = result.report
    assert report["rejected_by_braze"] == 3 and report["sent"] == 197
    assert {r["row_key"] for r in report["rejects"]} == {f"external_id={u}" for u in bad}
    assert all(r["reason"] == "blocked_user" for r in report["rejects"])
    assert {e["external_id"] for e in emu.store.events}.isdisjoint(bad)
    assert len(emu.store.events) == 197


def test_400_isolates_bad_rows_by_bisection(box, emu, run):
    box.add_model("events", events_sql(150))
    bad = {"user-10", "user-111"}
    emu.config.strict_batches = True  # a 400 that names no object
    emu.config.reject = lambda array, obj: "blocked_user" if obj.get("external_id") in bad else None
    result = run(*ARGS)
    assert result.code == 3
    assert {r["row_key"] for r in result.report["rejects"]} == {f"external_id={u}" for u in bad}
    assert result.report["sent"] == 148
    _exactly_once_except = collections.Counter(e["external_id"] for e in emu.store.events)
    assert len(_exactly_once_except) == 148 and max(_exactly_once_except.values()) == 1


def test_fatal_400_with_errors_rejects_named_rows_without_bisecting(box, emu, run):
    box.add_model("events", events_sql(5))
    emu.config.reject = lambda array, obj: "nope"
    result = run(*ARGS)
    assert result.code == 3
    assert result.report["rejected_by_braze"] == 5
    assert result.report["requests"] == 1


def test_plain_http_to_a_remote_host_is_refused(box, emu, run):
    box.add_model("events", events_sql(5))
    result = run(*ARGS, env={"BRAZE_REST_ENDPOINT": "http://rest.iad-01.braze.com"})
    assert result.code == 1
    assert "plain http" in result.err
    assert emu.store.requests == 0


def test_a_ca_bundle_that_is_missing_stops_the_job_before_it_starts(box, emu, run, tmp_path):
    box.add_model("events", events_sql(5))
    missing = tmp_path / "corp-ca.pem"
    result = run(*ARGS, env={"REQUESTS_CA_BUNDLE": str(missing)})
    assert result.code == 1
    assert f"REQUESTS_CA_BUNDLE names no readable file or directory: {missing}" in result.err
    assert emu.store.requests == 0


def test_unknown_endpoint_path_stops_the_job(box, emu, run):
    box.add_model("events", events_sql(200))
    result = run(*ARGS, env={"BRAZE_REST_ENDPOINT": emu.url + "/wrong"})
    assert result.code == 3
    assert "404" in result.report["stopped_reason"]
    assert result.report["requests"] <= 4


@pytest.fixture
def tls_emu(box, monkeypatch):
    """An emulator serving https with a certificate from a CA of its own."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with start_emulator(api_key="tls-test-key", tls=context) as emulator:
        emulator.ca = ca
        yield emulator


def test_a_certificate_failure_stops_at_once_with_exit_1(box, tls_emu, run):
    # not a transient fault: a wrong CA bundle, a TLS-intercepting proxy... retrying cannot help
    box.add_model("events", events_sql(300))
    result = run(*ARGS, env=tls_emu.env())
    assert result.code == 1, result.err
    assert result.report["retries"] == 0
    assert result.report["requests"] == 1  # the first request goes out alone
    assert "certificate" in result.err.lower() and "REQUESTS_CA_BUNDLE" in result.err
    assert "certificate" in result.report["stopped_reason"].lower()
    assert result.report["sent"] == 0 and tls_emu.store.requests == 0


def test_https_with_the_right_ca_bundle_delivers(box, tls_emu, run, tmp_path):
    box.add_model("events", events_sql(100))
    bundle = tmp_path / "ca.pem"
    tls_emu.ca.cert_pem.write_to_path(str(bundle))
    result = run(*ARGS, env={**tls_emu.env(), "REQUESTS_CA_BUNDLE": str(bundle)})
    assert result.code == 0, result.err
    assert result.report["sent"] == 100 and len(tls_emu.store.events) == 100


def test_a_refused_key_costs_one_request_not_one_per_thread(box, emu, run):
    box.add_model("events", events_sql(600))  # 8 batches, 4 threads
    emu.config.keys = {"another-key": {"users.track"}}
    emu.config.latency = 0.02
    result = run(*ARGS)
    assert result.code == 3
    assert emu.store.requests == 1 and result.report["requests"] == 1
    assert result.report["failed"] == 600


def test_the_pool_widens_to_full_concurrency_after_the_first_success(box, emu, run):
    box.add_model("events", events_sql(1500))  # 20 batches
    emu.config.latency = 0.02
    result = run(*ARGS)
    assert result.code == 0, result.err
    assert emu.store.max_in_flight == 4  # --concurrency 4 in the tests
    assert emu.store.in_flight_at_first == 1


def test_a_404_names_the_key_as_well_as_the_endpoint(box, emu, run):
    # Braze documents 404 for an unknown key too, not only for a wrong URL
    box.add_model("events", events_sql(10))
    result = run(*ARGS, env={"BRAZE_REST_ENDPOINT": emu.url + "/wrong"})
    assert result.code == 3
    reason = result.report["stopped_reason"]
    assert "BRAZE_REST_ENDPOINT" in reason and "BRAZE_API_KEY" in reason


def test_a_smaller_contract_limit_is_learned_from_the_first_refusal(box, emu, run):
    # "Monthly Active Users CY 24-25" contracts: up to 50 objects a request, not 75
    box.add_model("events", events_sql(1500))  # 20 batches of 75
    emu.config.track_max_objects = 50
    result = run(*ARGS)
    assert result.code == 0, result.err
    _exactly_once(emu, 1500)
    assert emu.store.statuses[400] == 1  # one refusal, not one per batch
    assert result.report["objects_per_request_learned"] == 50
    assert result.report["requests"] <= 1 + 1500 // 50 + 8  # batches already built: 50 + 25
    assert "at most 50 objects a request" in result.err


def test_a_limit_below_the_documented_ones_is_found_by_halving(box, emu, run):
    box.add_model("events", events_sql(300))
    emu.config.track_max_objects = 20
    result = run(*ARGS)
    assert result.code == 0, result.err
    _exactly_once(emu, 300)
    assert result.report["objects_per_request_learned"] == 12  # 75 -> 50 -> 25 -> 12
    assert emu.store.statuses[400] == 3
