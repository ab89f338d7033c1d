"""Every kind of invalid row: without the skip flag nothing is sent (exit 2); with it the row is
skipped and reported and the others are delivered (exit 0)."""

from __future__ import annotations

import pytest

VALID_EVENTS = """SELECT 'u' || i AS external_id, NULL::VARCHAR AS braze_id, 'e' AS name,
    '2024-01-01T00:00:00Z' AS time, NULL::VARCHAR AS alias_name, NULL::VARCHAR AS alias_label,
    'ok' AS note, '{}' AS extra FROM range(3) r(i)"""
VALID_PURCHASES = """SELECT 'u' || i AS external_id, 'sku' AS product_id, 'USD' AS currency,
    '1.5' AS price, 1 AS quantity, '2024-01-01T00:00:00Z' AS time FROM range(3) r(i)"""

LONG = "x" * 256

EVENT_COLUMNS = ("external_id", "braze_id", "name", "time", "alias_name", "alias_label", "note")
EVENT_DEFAULTS = ("'bad'", "NULL", "'e'", "'2024-01-01'", "NULL", "NULL", "'ok'", "'{}'")


def ev(**values: str) -> str:
    """The SELECT list of one event row: the defaults, some replaced (``extra`` is last)."""
    columns = (*EVENT_COLUMNS, "extra")
    return ", ".join(values.get(c, d) for c, d in zip(columns, EVENT_DEFAULTS, strict=True))


# (label, SELECT list of one invalid row with the base model's columns, reason fragment)
EVENT_CASES = [
    ("no identifier", ev(external_id="NULL"), "no identifier"),
    ("two identifiers", ev(braze_id="'b1'"), "more than one"),
    ("missing name", ev(name="NULL"), "name is required"),
    ("missing time", ev(time="NULL"), "time is required"),
    ("bad time", ev(time="'yesterday'"), "not an ISO-8601"),
    ("name with $", ev(name="'$e'"), "starts with '$'"),
    ("long name", ev(name=f"'{LONG}'"), "longer than 255"),
    ("long string", ev(note=f"'{LONG}'"), "longer than 255"),
    ("alias half", ev(external_id="NULL", alias_name="'n'"), "set together"),
    ("long external_id", ev(external_id=f"'{'é' * 494}'"), "987 bytes"),
    ("pre-formatted not JSON", ev(extra="'{nope'"), "not valid JSON"),
]
PURCHASE_CASES = [
    ("currency not ISO", "'bad', 'sku', 'ABC', '1', 1, '2024-01-01'", "ISO-4217"),
    ("currency length", "'bad', 'sku', 'US', '1', 1, '2024-01-01'", "ISO-4217"),
    ("price not numeric", "'bad', 'sku', 'USD', 'free', 1, '2024-01-01'", "not a number"),
    ("quantity 0", "'bad', 'sku', 'USD', '1', 0, '2024-01-01'", "outside 1..100"),
    ("quantity 101", "'bad', 'sku', 'USD', '1', 101, '2024-01-01'", "outside 1..100"),
    ("no product", "'bad', NULL, 'USD', '1', 1, '2024-01-01'", "product_id is required"),
]  # fmt: skip


def _model(box, base: str, invalid_values: str) -> None:
    box.add_model("m", f"{base} UNION ALL SELECT {invalid_values}")


def _args(record_type: str) -> list[str]:
    args = ["--model", "m", "--mode", "user_track", "--track-record-type", record_type]
    if record_type == "custom_events":
        args += ["--pre-formatted-fields", "extra"]
    return args


CASES = [("custom_events", VALID_EVENTS, *c) for c in EVENT_CASES] + [
    ("purchases", VALID_PURCHASES, *c) for c in PURCHASE_CASES
]


@pytest.mark.parametrize(
    ("record_type", "base", "label", "values", "reason"), CASES, ids=[c[2] for c in CASES]
)
def test_invalid_row_stops_the_job_before_any_request(
    box, emu, run, record_type, base, label, values, reason
):
    _model(box, base, values)
    result = run(*_args(record_type))
    assert result.code == 2, result.err
    assert emu.store.requests == 0  # nothing sent
    report = result.report
    assert report["invalid"] == 1 and report["not_sent"] == 3 and report["sent"] == 0
    [reject] = report["rejects"]
    assert reason in reject["reason"]
    assert reject["status"] == "invalid"
    assert reject["row_key"]


@pytest.mark.parametrize(
    ("record_type", "base", "label", "values", "reason"), CASES, ids=[c[2] for c in CASES]
)
def test_invalid_row_is_skipped_and_reported_with_the_flag(
    box, emu, run, record_type, base, label, values, reason
):
    _model(box, base, values)
    result = run(*_args(record_type), "--skip-on-invalid-records")
    assert result.code == 0, result.err
    report = result.report
    assert report["sent"] == 3 and report["skipped_invalid"] == 1
    [reject] = report["rejects"]
    assert reject["status"] == "skipped_invalid" and reason in reject["reason"]
    stored = emu.store.events if record_type == "custom_events" else emu.store.purchases
    assert sorted(o["external_id"] for o in stored) == ["u0", "u1", "u2"]


def test_report_row_key_names_the_user(box, emu, run):
    box.add_model("m", "SELECT 'alice' AS external_id, 'e' AS name, 'soon' AS time")
    result = run("--model", "m", "--mode", "user_track", "--track-record-type", "custom_events")
    assert result.code == 2
    assert result.report["rejects"][0]["row_key"] == "external_id=alice"


def test_attribute_rules(box, emu, run):
    box.add_model(
        "m",
        f"""SELECT * FROM (VALUES ('u1', 'ok', NULL), ('u2', '{LONG}', NULL), ('u3', 'ok', 'x'))
            AS t(external_id, colour, "$bad")""",
    )
    result = run(
        "--model", "m", "--mode", "user_track", "--track-record-type", "user_attributes",
        "--skip-on-invalid-records",
    )  # fmt: skip
    assert result.code == 0
    reasons = {r["row_key"]: r["reason"] for r in result.report["rejects"]}
    assert "longer than 255" in reasons["external_id=u2"]
    assert "starts with '$'" in reasons["external_id=u3"]
    assert emu.store.attributes == [{"external_id": "u1", "colour": "ok"}]


def test_identify_needs_every_column(box, emu, run):
    box.add_model(
        "m",
        "SELECT * FROM (VALUES ('u1', 'n1', 'crm'), (NULL, 'n2', 'crm')) "
        "AS t(external_id, alias_name, alias_label)",
    )
    result = run("--model", "m", "--mode", "user_identify")
    assert result.code == 2
    assert "required" in result.report["rejects"][0]["reason"]


def test_delete_by_email_needs_prioritization(box, emu, run):
    box.add_model("m", "SELECT 'a@example.com' AS email")
    result = run("--model", "m", "--mode", "user_delete")
    assert result.code == 2
    assert "--delete-prioritization" in result.report["rejects"][0]["reason"]
    assert emu.store.requests == 0


def test_report_row_is_the_position_in_the_model(box, emu, run):
    box.add_model(
        "m",
        "SELECT 'u' || i AS external_id, 'e' AS name, "
        "CASE WHEN i = 5 THEN 'bad time' ELSE '2024-01-01' END AS time FROM range(8) r(i)",
    )
    result = run("--model", "m", "--mode", "user_track", "--track-record-type", "custom_events")
    assert result.code == 2
    [reject] = result.report["rejects"]
    assert reject["row"] == 6 and reject["row_key"] == "external_id=u5"


def test_the_validation_log_says_how_many_rows_python_checked_of_how_many(box, emu, run):
    # "validating: 2 rows" for a 5-row model read like lost rows
    box.add_model(
        "mixed",
        "SELECT 'u' || i AS external_id, 'e' AS name, "
        "CASE WHEN i <= 2 THEN '{\"a\": 1}' END AS properties, "
        "TIMESTAMP '2024-05-01 10:00:00' AS time FROM range(1, 6) t(i)",
    )
    result = run("--model", "mixed", "--mode", "user_track",
                 "--track-record-type", "custom_events", "--log-interval", "0.001")  # fmt: skip
    assert result.code == 0, result.err
    assert "validating: " not in result.err
    assert "of the model's 5 rows" in result.err
