"""--delta: only attributes whose values changed since the last acknowledged export are sent."""

from __future__ import annotations

ARGS = ["--model", "users", "--mode", "user_track", "--track-record-type", "user_attributes"]


def users_sql(changes: str = "") -> str:
    return f"""SELECT 'u' || i AS external_id, 'plan-' || (i % 3) AS plan, i * 10 AS points,
                      ['x', 'y'] AS tags, {changes or "NULL::VARCHAR AS city"}
               FROM range(50) r(i)"""


def test_unchanged_model_sends_nothing(box, emu, run):
    box.add_model("users", users_sql())
    first = run(*ARGS, "--delta")
    assert first.code == 0 and first.report["sent"] == 50
    assert first.report["data_points_sent"] == 150
    second = run(*ARGS, "--delta")
    assert second.code == 0
    assert second.report["requests"] == 0 and second.report["sent"] == 0
    assert second.report["unchanged"] == 50
    assert second.report["data_points_saved_by_delta"] == 150
    assert len(emu.store.attributes) == 50
    # the opening line does not promise rows the ledger would send
    assert "--delta: only attributes that changed are sent" in second.out + second.err
    assert "not yet delivered" not in second.out + second.err


def test_without_delta_the_opening_line_counts_what_is_not_yet_delivered(box, emu, run):
    box.add_model("users", users_sql())
    first = run(*ARGS)
    assert "50 rows, about 50 not yet delivered" in first.out + first.err
    again = run(*ARGS)
    assert again.report["sent"] == 0
    assert "50 rows, about 0 not yet delivered" in again.out + again.err


def test_one_change_sends_only_that_attribute(box, emu, run):
    box.add_model("users", users_sql())
    run(*ARGS, "--delta")
    box.add_model(
        "users",
        users_sql("CASE WHEN i = 7 THEN 'Lyon' END AS city").replace(
            "i * 10 AS points", "CASE WHEN i = 3 THEN 999 ELSE i * 10 END AS points"
        ),
    )
    emu.store.reset()
    result = run(*ARGS, "--delta")
    assert result.code == 0
    assert sorted(emu.store.attributes, key=lambda a: a["external_id"]) == [
        {"external_id": "u3", "points": 999},
        {"external_id": "u7", "city": "Lyon"},
    ]
    assert result.report["requests"] == 1
    assert result.report["data_points_sent"] == 2
    assert result.report["data_points_saved_by_delta"] == 50 * 3 - 1  # all but u3's points
    # and the new values are now the acknowledged ones
    emu.store.reset()
    assert run(*ARGS, "--delta").report["sent"] == 0


def test_a_value_turning_null_sends_nothing(box, emu, run):
    box.add_model("users", "SELECT 'u1' AS external_id, 'a' AS plan")
    run(*ARGS, "--delta")
    box.add_model("users", "SELECT 'u1' AS external_id, NULL::VARCHAR AS plan")
    result = run(*ARGS, "--delta")
    assert result.report["sent"] == 0 and len(emu.store.attributes) == 1


def test_type_change_counts_as_change(box, emu, run):
    box.add_model("users", "SELECT 'u1' AS external_id, 1 AS flag")
    run(*ARGS, "--delta")
    box.add_model("users", "SELECT 'u1' AS external_id, true AS flag")
    result = run(*ARGS, "--delta")
    assert result.report["sent"] == 1
    assert emu.store.attributes[-1] == {"external_id": "u1", "flag": True}


def test_non_delta_export_counts_as_last_acknowledged(box, emu, run):
    box.add_model("users", users_sql())
    assert run(*ARGS).report["sent"] == 50  # plain export records the attribute state too
    result = run(*ARGS, "--delta")
    assert result.report["sent"] == 0 and result.report["unchanged"] == 50


def test_plain_rerun_of_unchanged_rows_skips_them(box, emu, run):
    box.add_model("users", users_sql())
    run(*ARGS)
    result = run(*ARGS)
    assert result.report["already_delivered"] == 50 and result.report["requests"] == 0


def test_delta_keeps_flags_and_identifier(box, emu, run):
    box.add_model(
        "users",
        "SELECT 'u1' AS external_id, 'a' AS plan, 'x' AS city, true AS _update_existing_only",
    )
    run(*ARGS, "--delta")
    box.add_model(
        "users",
        "SELECT 'u1' AS external_id, 'b' AS plan, 'x' AS city, true AS _update_existing_only",
    )
    run(*ARGS, "--delta")
    assert emu.store.attributes[-1] == {
        "external_id": "u1",
        "plan": "b",
        "_update_existing_only": True,
    }


def test_delta_state_is_compacted(box, emu, run):
    box.add_model("users", users_sql())
    run(*ARGS, "--delta")
    box.add_model("users", users_sql().replace("i * 10", "i * 11"))
    run(*ARGS, "--delta")
    rows = box.execute(
        "SELECT count(*), count(DISTINCT user_key) FROM braze_export.attribute_state"
    )
    assert rows == [(50, 50)]
