"""The vocabularies (seeds/ and the model lists of macros/marts/marts__braze.sql) cover what
the catalogue of Currents event types holds, so no channel, action, Canvas or session event
falls out of the marts unnoticed."""

from __future__ import annotations

import csv
import re

from braze_currents.catalog import load_catalog
from braze_currents.config import PROJECT_ROOT

SEEDS = PROJECT_ROOT / "seeds"
VOCABULARY_MACROS = PROJECT_ROOT / "macros" / "marts" / "marts__braze.sql"
# Canvas event types that are no journey event, each with its reason (as beside the macro).
NOT_JOURNEY_EVENTS = {
    "users.canvas.costep.Send": "a Content Optimizer step's send: it names no Canvas or step",
    "users.canvas.Abort": "retired: Braze no longer sends it",
}


def seed(name: str) -> list[dict]:
    with open(SEEDS / f"{name}.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def snake_case(action: str) -> str:
    action = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", action)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", action).lower()


def message_event_types() -> list[str]:
    return [e.event_type for e in load_catalog() if e.event_type.startswith("users.messages.")]


def test_every_catalogued_channel_is_a_channel_of_the_seed():
    channels = [row["channel"] for row in seed("braze_currents__channels")]
    assert len(channels) == len(set(channels))
    assert {t.split(".")[2] for t in message_event_types()} == set(channels)


def test_every_catalogued_action_is_in_the_seed_spelled_as_the_marts_derive_it():
    rows = seed("braze_currents__message_actions")
    spelled = {row["event_type_action"]: row["action"] for row in rows}
    catalogued = {t.rsplit(".", 1)[1] for t in message_event_types()}
    assert set(spelled) == catalogued
    assert all(snake_case(camel) == action for camel, action in spelled.items())
    assert len({row["action"] for row in rows}) == len(rows)


def test_action_flags_are_booleans_and_stages_are_the_funnel_of_message_sends():
    rows = {row["action"]: row for row in seed("braze_currents__message_actions")}
    for row in rows.values():
        assert row["is_engagement"] in ("true", "false"), row
        assert row["is_delivery_outcome"] in ("true", "false"), row
        # Nothing done to the user is something the user did.
        assert not (row["is_engagement"] == "true" == row["is_delivery_outcome"]), row
    engagement = {a for a, row in rows.items() if row["is_engagement"] == "true"}
    assert engagement == {"open", "click", "short_link_click", "read", "inbound_receive"}
    stages = {row["funnel_stage"] for row in rows.values()} - {""}
    sends = (PROJECT_ROOT / "models" / "marts" / "fct_message_sends.sql").read_text()
    assert stages == set(re.findall(r"funnel_stage = '(\w+)'", sends))
    assert rows["short_link_click"]["funnel_stage"] == rows["click"]["funnel_stage"]


def test_mailbox_provider_domains_are_domains_or_labels_and_never_disagree():
    rows = seed("braze_currents__mailbox_providers")
    domains = [row["domain"] for row in rows]
    assert len(domains) == len(set(domains))
    provider = {row["domain"]: row["mailbox_provider"] for row in rows}
    for domain, name in provider.items():
        assert re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+|[a-z0-9-]+\.\*", domain), domain
        assert name.strip() == name and name
        label = domain.split(".")[0] + ".*"
        # A domain listed as written that its label covers says the same: no order matters.
        assert provider.get(label, name) == name, domain


def macro_models(macro: str) -> set[str]:
    text = VOCABULARY_MACROS.read_text()
    body = text[text.index(f"macro {macro}()") :]
    body = body[: body.index("endmacro")]
    return set(re.findall(r"'model': '(\w+)'", body))


def test_canvas_and_session_model_lists_cover_the_catalogue():
    catalog = load_catalog()
    canvas = {
        e.model
        for e in catalog
        if e.event_type.startswith(("users.canvas.", "users.canvasstep."))
        and e.event_type not in NOT_JOURNEY_EVENTS
    }
    assert canvas and macro_models("marts__canvas_journey_models") == canvas
    sessions = {
        e.model
        for e in catalog
        if e.event_type.startswith("users.behaviors.app.") and "Session" in e.event_type
    }
    assert (
        macro_models("marts__session_models")
        == sessions
        == {
            "stg_braze_currents__session_starts",
            "stg_braze_currents__session_ends",
            "stg_braze_currents__first_sessions",
        }
    )
    for event_type in NOT_JOURNEY_EVENTS:
        assert event_type in VOCABULARY_MACROS.read_text(), event_type
