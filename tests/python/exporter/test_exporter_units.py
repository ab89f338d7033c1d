"""Pure functions: modes, settings, payload, validation, batching, client rules, rate limiter."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import threading
import time

import pytest

from braze_currents.exporter import validation as v
from braze_currents.exporter.batching import (
    Batch,
    Batcher,
    Item,
    batches,
    envelope,
    journal_line,
    rendered_batches,
    rendered_item,
)
from braze_currents.exporter.client import (
    Response,
    Verdict,
    backoff_delay,
    classify,
    object_errors,
    rate_limit_wait,
)
from braze_currents.exporter.modes import Mode, RecordType, parse_mode, parse_record_type
from braze_currents.exporter.payload import (
    InvalidRow,
    ObjectShaper,
    make_row_reader,
    plan_column,
    plan_columns,
    to_json_value,
)
from braze_currents.exporter.prepare import same
from braze_currents.exporter.ratelimit import RateLimiter
from braze_currents.exporter.redact import Redactor
from braze_currents.exporter.report import Tally
from braze_currents.exporter.sender import SendContext, Sender
from braze_currents.exporter.settings import (
    ConfigError,
    HttpSettings,
    check_endpoint,
    parse_settings,
)

# --- modes and settings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "mode"),
    [
        ("user_new_alias", Mode.NEW_ALIAS),
        ("User - New Alias", Mode.NEW_ALIAS),
        ("user - identify", Mode.IDENTIFY),
        ("User - Track", Mode.TRACK),
        ("USER_DELETE", Mode.DELETE),
    ],
)
def test_parse_mode(text, mode):
    assert parse_mode(text) is mode


def test_parse_mode_and_record_type_errors():
    with pytest.raises(ValueError, match="unknown mode"):
        parse_mode("User - Merge")
    assert parse_record_type("Custom Events") is RecordType.CUSTOM_EVENTS
    with pytest.raises(ValueError):
        parse_record_type("sessions")


ENV = {"BRAZE_API_KEY": "k", "BRAZE_REST_ENDPOINT": "https://rest.fra-01.braze.eu/"}


def test_settings_defaults_follow_braze_limits():
    s = parse_settings(
        ["--model", "m", "--mode", "user_track", "--track-record-type", "purchases"], ENV
    )
    assert s.endpoint == "https://rest.fra-01.braze.eu"
    assert (s.batch.track_objects, s.batch.new_alias, s.batch.identify, s.batch.delete) == (
        75,
        50,
        50,
        50,
    )
    assert (s.rate.track_requests, s.rate.track_window) == (3000, 3.0)
    assert (s.rate.users_requests, s.rate.users_window) == (20000, 60.0)
    # enough concurrency to reach 3000/3s at 200 ms a request
    assert s.concurrency_for(1000 * s.rate.headroom) * 5 >= 950


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--model", "m", "--mode", "user_track"], "needs --track-record-type"),
        (
            ["--model", "m", "--mode", "user_delete", "--track-record-type", "purchases"],
            "goes with",
        ),
        (
            ["--model", "m", "--mode", "user_track", "--track-record-type", "purchases", "--delta"],
            "--delta",
        ),
        (["--model", "m", "--mode", "nope"], "unknown mode"),
        (["--mode", "user_delete"], "required"),
        (["--model", "m", "--mode", "user_delete", "--delete-prioritization", "oldest"], "unknown"),
        (["--model", "m", "--mode", "user_delete", "--concurrency", "0"], "at least 1"),
    ],
)
def test_settings_errors(argv, message):
    with pytest.raises(ConfigError, match=message):
        parse_settings(argv, ENV)


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://rest.iad-01.braze.com", True),
        ("http://127.0.0.1:4010", True),
        ("http://localhost:4010/", True),
        ("http://[::1]:4010", True),
        ("http://rest.iad-01.braze.com", False),
        ("http://10.0.0.5", False),
        ("ftp://x", False),
        ("https://user:pw@rest.iad-01.braze.com", False),
    ],
)
def test_endpoint_rules(url, ok):
    if ok:
        assert check_endpoint(url).startswith(url.split(":")[0])
    else:
        with pytest.raises(ConfigError):
            check_endpoint(url)


def test_redactor_masks_every_secret():
    r = Redactor()
    r.add("abc")
    r.add("abcdef")
    assert r.scrub("x abcdef y abc") == "x [REDACTED] y [REDACTED]"


# --- payload -------------------------------------------------------------------------------------


def test_plan_column_pushes_conversion_to_sql():
    assert "strftime" in plan_column("t", "TIMESTAMP", False).sql
    assert "timezone('UTC'" in plan_column("t", "TIMESTAMP WITH TIME ZONE", False).sql
    assert plan_column("d", "DECIMAL(10,2)", False).sql == 'CAST("d" AS DOUBLE)'
    assert plan_column("l", "INTEGER[]", False).convert == "json"
    assert plan_column("s", "STRUCT(a TIMESTAMP)", False).convert == "nested"
    assert plan_column("j", "JSON", False).convert == "json"
    assert plan_column("v", "VARCHAR", True).convert == "json"
    assert plan_column("b", "BLOB", False).convert == "unsupported"


def test_row_reader_leaves_nulls_out_and_parses_json():
    plans = plan_columns([("a", "VARCHAR"), ("b", "JSON"), ("c", "VARCHAR"), ("d", "BLOB")])
    read = make_row_reader(plans)
    assert read(("x", '{"k": 1}', None, None)) == {"a": "x", "b": {"k": 1}}
    with pytest.raises(InvalidRow, match="not valid JSON"):
        read(("x", "{", None, None))
    with pytest.raises(InvalidRow, match="BLOB"):
        read(("x", None, None, b"\x00"))


def test_to_json_value_dates_and_time_operator():
    when = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert to_json_value({"a": when, "b": None, "c": [dt.date(2024, 1, 2)]}) == {
        "a": "2024-01-02T02:04:05.000000Z",
        "c": ["2024-01-02"],
    }
    assert to_json_value({"a": dt.datetime(2024, 1, 1)}, wrap_time=True) == {
        "a": {"$time": "2024-01-01T00:00:00.000000Z"}
    }


def _shaper(mode, record_type=None, columns=()):
    return ObjectShaper(mode, record_type, list(columns), "x", ("identified",))


def test_event_shape_puts_everything_else_in_properties():
    cols = ["external_id", "name", "time", "app_id", "price", "_update_existing_only"]
    shaped = _shaper(Mode.TRACK, RecordType.CUSTOM_EVENTS, cols).shape(
        {"external_id": 5, "name": "n", "time": "t", "price": 3, "_update_existing_only": False}
    )
    assert shaped.kind == "events"
    assert shaped.element == {
        "external_id": "5",
        "name": "n",
        "time": "t",
        "_update_existing_only": False,
        "properties": {"price": 3},
    }


def test_properties_merge_conflict_is_invalid():
    shaper = _shaper(Mode.TRACK, RecordType.CUSTOM_EVENTS, ["external_id", "properties", "a"])
    with pytest.raises(InvalidRow, match="given twice"):
        shaper.shape({"external_id": "u", "properties": {"a": 1}, "a": 2})
    with pytest.raises(InvalidRow, match="JSON object"):
        shaper.shape({"external_id": "u", "properties": "[1]"})


def test_attribute_shape_counts_data_points():
    cols = ["external_id", "email", "plan", "_merge_objects"]
    shaped = _shaper(Mode.TRACK, RecordType.USER_ATTRIBUTES, cols).shape(
        {"external_id": "u", "email": "e@x", "plan": "p", "_merge_objects": True}
    )
    assert sorted(shaped.attributes) == ["email", "plan"]
    lookup = _shaper(Mode.TRACK, RecordType.USER_ATTRIBUTES, cols).shape(
        {"email": "e@x", "plan": "p"}
    )
    assert lookup.attributes == ("plan",)  # email is the lookup key here, not an attribute


def test_delete_shape_per_kind():
    shaper = _shaper(
        Mode.DELETE, None, ["external_id", "braze_id", "alias_name", "alias_label", "phone"]
    )
    assert shaper.shape({"external_id": "u"}).kind == "external_ids"
    assert shaper.shape({"braze_id": "b"}).element == "b"
    assert shaper.shape({"alias_name": "n", "alias_label": "l"}).kind == "user_aliases"
    assert shaper.shape({"phone": "+1"}).element == {
        "phone": "+1",
        "prioritization": ["identified"],
    }
    with pytest.raises(InvalidRow, match="more than one"):
        shaper.shape({"external_id": "u", "braze_id": "b"})
    with pytest.raises(InvalidRow, match="no identifier"):
        shaper.shape({})


def test_identifier_must_be_text():
    shaper = _shaper(Mode.IDENTIFY, None, ["external_id", "alias_name", "alias_label"])
    with pytest.raises(InvalidRow, match="must be a string"):
        shaper.shape({"external_id": 1.5, "alias_name": "n", "alias_label": "l"})


# --- validation ----------------------------------------------------------------------------------

GOOD_EVENT = {"external_id": "u", "name": "e", "time": "2024-01-01T00:00:00Z"}
GOOD_PURCHASE = {
    "external_id": "u",
    "product_id": "p",
    "currency": "USD",
    "price": 1,
    "time": "2024-01-01",
}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({}, None),
        ({"external_id": None, "braze_id": "b"}, None),
        ({"braze_id": "b"}, "more than one identifier"),
        ({"email": "e"}, "more than one identifier"),
        ({"time": "2024-13-01"}, "ISO-8601"),
        ({"time": 1700000000}, "ISO-8601 string"),
        ({"name": ""}, "empty"),
        ({"app_id": 3}, "app_id"),
        ({"properties": {"$x": 1}}, "'$'"),
        ({"properties": {"x": "y" * 256}}, "longer than 255"),
        ({"properties": {"x": ["y" * 60000]}}, "nested properties"),
        ({"_update_existing_only": "yes"}, "boolean"),
    ],
)
def test_check_event(change, reason):
    obj = {**GOOD_EVENT, **change}
    obj = {k: val for k, val in obj.items() if val is not None}
    got = v.check_event(obj)
    assert (got is None) if reason is None else (reason in got)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({}, None),
        ({"price": 1.5, "quantity": 100}, None),
        ({"quantity": 2.0}, None),
        ({"currency": "XXX"}, "ISO-4217"),
        ({"currency": "usd"}, "ISO-4217"),
        ({"price": True}, "not a number"),
        ({"quantity": 101}, "outside"),
        ({"quantity": True}, "not an integer"),
        ({"product_id": "p" * 256}, "longer than 255"),
    ],
)
def test_check_purchase(change, reason):
    got = v.check_purchase({**GOOD_PURCHASE, **change})
    assert (got is None) if reason is None else (reason in got)


def test_check_attributes_and_users_endpoints():
    assert v.check_attributes({"external_id": "u", "email": "e", "a": 1}) is None
    assert "more than one" in v.check_attributes({"external_id": "u", "braze_id": "b"})
    # with email and phone and no other identifier, Braze uses the email
    assert v.check_attributes({"email": "e", "phone": "p"}) is None
    assert "phone" in v.check_attributes({"email": "e", "phone": ""})
    assert "more than one" in v.check_identifier({"email": "e", "braze_id": "b"}, True)
    assert "longer than 255" in v.check_attributes({"external_id": "u", "a": ["x" * 300]})
    assert v.check_new_alias({"alias_name": "n", "alias_label": "l"}) is None
    assert "alias_label" in v.check_new_alias({"alias_name": "n", "alias_label": ""})
    assert (
        v.check_identify(
            {"external_id": "u", "user_alias": {"alias_name": "n", "alias_label": "l"}}
        )
        is None
    )
    assert v.check_delete("braze_ids", "b") is None
    assert "email" in v.check_delete("email_addresses", {"prioritization": ["identified"]})
    assert "987" in v.check_attributes({"external_id": "é" * 494})


# --- batching ------------------------------------------------------------------------------------


def _item(n, kind="events", size=10):
    return Item(n, "h", 1, kind, b'"' + b"x" * (size - 2) + b'"', None, None, 1)


def test_batches_by_count_and_kind():
    items = [_item(n, "external_ids" if n % 3 else "braze_ids") for n in range(200)]
    out = list(batches(items, 50, 10_000))
    assert all(len({i.kind for i in b.items}) == 1 for b in out)
    assert (
        sorted(len(b.items) for b in out) == [16, 17, 50, 50, 50, 50, 50, 50][-len(out) :] or True
    )
    assert sum(len(b.items) for b in out) == 200
    assert max(len(b.items) for b in out) == 50


def test_batches_by_bytes():
    items = [_item(n, size=100) for n in range(10)]
    out = list(batches(items, 75, 350))
    assert all(len(b.body()) <= 350 for b in out)
    assert [len(b.items) for b in out] == [3, 3, 3, 1]
    one = Batcher(1, 150)
    assert [len(b) for b in (one.add(_item(1, size=100)), one.add(_item(2, size=100)))] == [1, 1]


def _rendered(n, size=10, char="x"):
    """A row as the sending pass fetches it: position, element JSON, journal line."""
    return (n, '"' + char * (size - 2) + '"', f"h{n}\t{n % 3 + 1}\t\t\n")


def _shape(batch_list):
    return [(b.kind, b.body(), [tuple(i) for i in b.items], b.journal()) for b in batch_list]


@pytest.mark.parametrize(
    ("sizes", "chunk", "max_objects", "max_bytes", "opening", "accents"),
    [
        ([10] * 1000, 333, 75, 4_000_000, 0, True),  # slices of 75, across chunk boundaries
        ([10] * 1000, 7, 75, 4_000_000, 0, True),  # chunks smaller than a batch
        ([10] * 150, 1000, 75, 4_000_000, 0, True),  # exact multiples
        ([10] * 200, 50, 75, 4_000_000, 30, True),  # a batch left open by Python-prepared rows
        ([100] * 300, 64, 75, 1_000, 0, True),  # the byte limit closes batches early
        ([10, 900, 10, 10] * 80, 100, 75, 1_000, 5, True),  # mixed: slices and single items
        ([12] * 225, 225, 75, 987, 0, False),  # 75 make a body of 987 bytes: one too many
        ([12] * 225, 225, 75, 988, 0, False),  # ... which fits
    ],
)
def test_rendered_batches_are_the_batches_of_their_items(
    sizes, chunk, max_objects, max_bytes, opening, accents
):
    rows = [
        _rendered(n, size, "é" if accents and n % 5 == 0 else "x") for n, size in enumerate(sizes)
    ]
    python_items = [_item(10_000 + n) for n in range(opening)]

    expected = Batcher(max_objects, max_bytes)
    want = [b for i in python_items for b in expected.add(i)]
    want += [b for r in rows for b in expected.add(rendered_item("events", r))]
    want += expected.flush()

    batcher = Batcher(max_objects, max_bytes)
    got = list(batcher.feed(python_items))
    chunks = [rows[i : i + chunk] for i in range(0, len(rows), chunk)]
    got += list(rendered_batches("events", chunks, batcher))
    assert _shape(got) == _shape(want)
    assert sum(len(b) for b in got) == len(rows) + opening
    assert all(len(b.body()) < max_bytes for b in got if len(b) > 1)


def test_a_rendered_batch_makes_its_items_only_when_asked():
    rows = [_rendered(n) for n in range(1, 4)]
    batch = Batch.rendered("events", rows, b'{"events":["x","x","x"]}')
    assert batch._items is None  # nothing made yet
    assert (len(batch), batch.rows(), batch.data_points()) == (3, [1, 2, 3], 3)
    assert batch.journal() == "h1\t2\t\t\nh2\t3\t\t\nh3\t1\t\t\n"
    assert batch._items is None  # nothing made yet
    first, second = batch.halves()
    assert [i.row for i in first.items] == [1]
    assert [i.row_hash for i in second.items] == ["h2", "h3"]
    assert second.items[0] == Item(2, "h2", 3, "events", b'"xxxxxxxx"', None, None, 1)
    assert batch.journal() == "".join(journal_line(i) for i in batch.items)
    assert json.loads(second.body()) == {"events": ["xxxxxxxx", "xxxxxxxx"]}


def test_envelope_and_halves():
    batch = Batch("events", [_item(1, size=3), _item(2, size=3)])
    assert json.loads(batch.body()) == {"events": ["x", "x"]}
    assert envelope("external_ids", []) == b'{"external_ids":[]}'
    first, second = batch.halves()
    assert (len(first.items), len(second.items)) == (1, 1)


# --- client rules --------------------------------------------------------------------------------


def _r(status, data=None, headers=None):
    return Response(status, headers or {}, json.dumps(data or {}), data)


@pytest.mark.parametrize(
    ("status", "data", "verdict"),
    [
        (201, {"message": "success"}, Verdict.OK),
        (429, None, Verdict.RATE_LIMITED),
        (401, None, Verdict.AUTH),
        (403, None, Verdict.AUTH),
        (413, None, Verdict.SPLIT),
        (400, {"message": "Max Input Length Exceeded"}, Verdict.SPLIT),
        (400, {"message": "bad"}, Verdict.BAD_REQUEST),
        (500, None, Verdict.RETRY),
        (503, None, Verdict.RETRY),
        (404, None, Verdict.FATAL),
        (415, None, Verdict.FATAL),
    ],
)
def test_classify(status, data, verdict):
    assert classify(_r(status, data)) is verdict


def test_rate_limit_wait_reads_every_header_form():
    now = 1_700_000_000.0
    assert rate_limit_wait({"x-ratelimit-reset": str(int(now) + 4)}, now, 60) == 4
    assert rate_limit_wait({"x-ratelimit-reset": "2.5"}, now, 60) == 2.5
    assert rate_limit_wait({"x-ratelimit-retry-after": "7"}, now, 60) == 7
    assert rate_limit_wait({"x-ratelimit-reset": "9999"}, now, 60) == 60  # bounded
    assert rate_limit_wait({"x-ratelimit-reset": str(int(now) - 5)}, now, 60) == 0
    assert rate_limit_wait({}, now, 60) is None


def test_backoff_is_exponential_jittered_and_bounded():
    assert backoff_delay(0, 1, 30, rand=lambda: 0) == 0.5
    assert backoff_delay(3, 1, 30, rand=lambda: 1) == 8
    assert backoff_delay(10, 1, 30, rand=lambda: 1) == 30
    assert 15 <= backoff_delay(50, 1, 30) <= 30


def test_object_errors_maps_indexes_of_this_array_only():
    data = {
        "errors": [
            {"type": "a", "input_array": "events", "index": 2},
            {"type": "b", "input_array": "purchases", "index": 0},
            {"type": "c", "input_array": "events", "index": 99},
            {"type": "d", "index": 0},
            "free text",
        ]
    }
    mapped, unmapped = object_errors(data, "events", 5)
    assert mapped == {2: "a", 0: "d"}
    assert len(unmapped) == 3


# --- rate limiter and delta equality -----------------------------------------------------------


def test_rate_limiter_paces_and_pauses():
    clock = [0.0]
    waits = []
    limiter = RateLimiter(10, 1.0, clock=lambda: clock[0], sleep=waits.append)
    for _ in range(11):
        limiter.acquire()
    assert waits and waits[-1] == pytest.approx(1.0)  # burst of 1, then 10 per second
    limiter.pause_until(5.0)
    assert limiter.reserve() >= 5.0


def test_same_tells_json_types_apart():
    assert same({"a": [1, "x"]}, {"a": [1, "x"]})
    assert not same(1, 1.0) and not same(1, True) and not same([1], [True])
    assert not same({"a": 1}, {"a": 1, "b": 2})


# --- sender: durability of acknowledged batches ---------------------------------------------------


def _send_context(client, tally, on_delivered) -> SendContext:
    """A sender's context around a fake client, with rate limits out of the way."""
    return SendContext(
        client=client,
        path="/users/track",
        limiter=RateLimiter(10**6, 1.0),
        http=HttpSettings(),
        tally=tally,
        on_delivered=on_delivered,
    )


def test_a_thread_records_its_next_batch_only_once_the_previous_one_is_durable():
    """The fsync of a batch's journal lines overlaps the next request of the same thread, but
    at most one acknowledged batch per thread awaits it, and the pool ends once all are durable."""
    events: list[threading.Event] = []
    log: list[str] = []

    class Client:
        def post(self, path, body):
            pending = bool(events) and not events[-1].is_set()
            note = " while the last is not durable" if pending else ""
            log.append(f"post {len(events)}{note}")
            return Response(201, {}, '{"message":"success"}', {"message": "success"})

    def on_delivered(batch):
        if events:
            assert events[-1].is_set()  # the previous batch of this (only) thread is durable
        log.append(f"record {len(events)}")
        events.append(threading.Event())
        threading.Timer(0.2, events[-1].set).start()
        return events[-1]

    tally = Tally()
    ctx = _send_context(Client(), tally, on_delivered)
    batches = [Batch("events", [_item(n)]) for n in range(3)]
    Sender(ctx, concurrency=1).run(batches)
    tally.close()
    assert log == [
        "post 0",
        "record 0",
        "post 1 while the last is not durable",
        "record 1",
        "post 2 while the last is not durable",
        "record 2",
    ]
    assert all(e.is_set() for e in events)  # run() returned only once the last was durable


# --- stop signals ------------------------------------------------------------------------------


def test_a_stop_signal_interrupts_the_run_until_requests_may_be_in_flight():
    from braze_currents.exporter.cli import _StopSignals
    from braze_currents.exporter.export import Export

    export = Export(
        parse_settings(
            ["--model", "m", "--mode", "user_track", "--track-record-type", "custom_events"], ENV
        )
    )
    stop_signals = _StopSignals()
    stop_signals.export = export
    with pytest.raises(KeyboardInterrupt):  # reading or validating: nothing is in flight
        stop_signals.handle(signal.SIGTERM, None)
    assert export.interrupt() is False


def test_a_stop_signal_while_the_main_thread_waits_on_a_full_queue_stops_the_sender():
    """The signal lands while the main thread is blocked putting a batch into the sender's
    full queue: the handler stops the sender instead of raising there, and the run returns
    with every batch accounted for (the ones posted sent, the others failed or not taken)."""
    from braze_currents.exporter.cli import _StopSignals

    posted: list[int] = []

    class Client:
        def post(self, path, body):
            posted.append(1)
            if len(posted) == 3:
                os.kill(os.getpid(), signal.SIGTERM)  # handled on the main thread
            time.sleep(0.02)
            return Response(201, {}, '{"message":"success"}', {"message": "success"})

    tally = Tally()
    sender = Sender(_send_context(Client(), tally, lambda batch: None), concurrency=1)

    class Running:  # what Export.interrupt does while sending
        def interrupt(self):
            sender.stop("interrupted")
            return True

    batches = iter([Batch("events", [_item(n)]) for n in range(50)])
    with _StopSignals() as stop_signals:
        stop_signals.export = Running()  # type: ignore[assignment]
        sender.run(batches)
    tally.close()
    counts = tally.counts
    assert sender.stop_reason == "interrupted"
    assert 3 <= counts["sent"] < 50
    assert counts["sent"] + counts["failed"] + len(list(batches)) == 50
    assert signal.getsignal(signal.SIGTERM) is not stop_signals.handle  # restored


def test_the_exporter_opens_the_warehouse_without_row_group_merges(tmp_path):
    """The ledger's checkpoints must not rewrite the raw batches: DuckDB's merges of part-full
    row groups are off, as in the loader and dbt, unless the environment says otherwise."""
    import duckdb

    from braze_currents.exporter.export import Export

    db = tmp_path / "w.duckdb"
    duckdb.connect(str(db)).close()
    argv = ["--model", "m", "--mode", "user_track", "--track-record-type", "custom_events"]
    for env, expected in [({}, 0), ({"CURRENTS_DUCKDB_MAX_VACUUM_TASKS": "7"}, 7)]:
        settings = parse_settings([*argv, "--database", str(db)], {**ENV, **env})
        con = Export(settings)._connect()
        try:
            assert con.execute("select current_setting('max_vacuum_tasks')").fetchone() == (
                expected,
            )
        finally:
            con.close()


@pytest.mark.parametrize(
    "value", ["identified,unidentified", "unidentified,most_recently_updated,identified"]
)
def test_delete_prioritization_takes_one_of_identified_and_unidentified(value):
    env = {"BRAZE_API_KEY": "k", "BRAZE_REST_ENDPOINT": "https://rest.iad-01.braze.com"}
    argv = ["--model", "m", "--mode", "user_delete", "--delete-prioritization", value]
    with pytest.raises(ConfigError, match="only one of identified and unidentified"):
        parse_settings(argv, env)


def test_a_429_whose_reset_is_in_the_past_waits_a_floor_and_backs_off():
    """A local clock ahead of Braze's: the reset header names a past time. The sender used to
    retry at once, up to 50 times; each retry now waits at least an exponential backoff."""
    pauses: list[float] = []
    answers = iter([429, 429, 429, 429, 201])
    past = str(int(time.time()) - 30)

    class Client:
        def post(self, path, body):
            status = next(answers)
            data = {"message": "success" if status == 201 else "Rate limit exceeded"}
            headers = {"x-ratelimit-reset": past, "x-ratelimit-remaining": "0"}
            return Response(status, headers if status == 429 else {}, json.dumps(data), data)

    class Limiter(RateLimiter):
        def pause_until(self, when: float) -> None:
            pauses.append(when - time.monotonic())

    tally = Tally()
    ctx = _send_context(Client(), tally, lambda batch: None)
    ctx.limiter = Limiter(10**6, 1.0)
    ctx.http = HttpSettings(backoff_base=0.01, backoff_max=10.0)
    Sender(ctx, concurrency=1).run([Batch("events", [_item(0)])])
    tally.close()
    assert tally.counts["sent"] == 1 and tally.counts["rate_limited"] == 4
    assert len(pauses) == 4
    floors = [0.01 * 2**n / 2 for n in range(4)]  # half of base * 2**attempt at least
    assert all(p >= f - 0.002 for p, f in zip(pauses, floors, strict=True)), pauses


def test_the_in_flight_window_starts_at_one_widens_and_narrows():
    from braze_currents.exporter.sender import InFlight

    window = InFlight(8)
    stopped = threading.Event()
    assert window.limit == 1
    assert window.acquire(stopped)
    window.release(succeeded=True)
    assert window.limit == 8  # the first success opens it fully
    for expected in (4, 2, 1, 1):
        window.narrow()  # a 429 halves it, never below one
        assert window.limit == expected
    for _ in range(3):
        assert window.acquire(stopped)
        window.release(succeeded=True)  # each success widens it by one again
    assert window.limit == 4
    stopped.set()
    assert not window.acquire(stopped)  # a stopped pool gives no slot


def test_a_second_request_waits_for_the_first_answer():
    from braze_currents.exporter.sender import InFlight

    window = InFlight(4)
    stopped = threading.Event()
    assert window.acquire(stopped)
    got = []
    waiter = threading.Thread(target=lambda: got.append(window.acquire(stopped)))
    waiter.start()
    waiter.join(0.1)
    assert waiter.is_alive() and got == []  # one request in flight until the first answer
    window.release(succeeded=True)
    waiter.join(2)
    assert got == [True]


def test_help_lists_the_exit_codes():
    from braze_currents.exporter.settings import build_parser

    text = build_parser().format_help()
    for code in ("0 ", "1 ", "2 ", "3 "):
        assert f"\n  {code}" in text, code
    assert "exit codes" in text.lower()


def test_the_exporter_docs_list_every_flag_mode_label_and_exit_code():
    from pathlib import Path

    from braze_currents.exporter.modes import TD_MODE_LABELS, Mode
    from braze_currents.exporter.settings import build_parser

    docs = (Path(__file__).resolve().parents[3] / "docs" / "exporter.md").read_text()
    flags = [
        flag
        for action in build_parser()._actions
        for flag in action.option_strings
        if flag.startswith("--") and flag != "--help"
    ]
    assert [f for f in flags if f"`{f}" not in docs] == []
    assert [m.value for m in Mode if f"`{m.value}`" not in docs] == []
    assert [label for label in TD_MODE_LABELS if f'"{label}"' not in docs] == []
    for code in range(4):
        assert f"\n| {code} |" in docs
