"""Export modes: names, Treasure Data's labels, and what each mode sends where."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass


class Mode(enum.StrEnum):
    NEW_ALIAS = "user_new_alias"
    IDENTIFY = "user_identify"
    TRACK = "user_track"
    DELETE = "user_delete"
    SUBSCRIPTION_STATUS = "user_subscription_status"


class RecordType(enum.StrEnum):
    CUSTOM_EVENTS = "custom_events"
    PURCHASES = "purchases"
    USER_ATTRIBUTES = "user_attributes"


# Treasure Data's Braze export labels for the `mode` parameter.
TD_MODE_LABELS = {
    "User - New Alias": Mode.NEW_ALIAS,
    "User - Identify": Mode.IDENTIFY,
    "User - Identifying": Mode.IDENTIFY,  # Braze's own page spells it so
    "User - Track": Mode.TRACK,
    "User - Delete": Mode.DELETE,
    "Update user's subscription group status": Mode.SUBSCRIPTION_STATUS,
    "User - Subscription Status": Mode.SUBSCRIPTION_STATUS,
}


def _normalise(text: str) -> str:
    return re.sub(r"[\s_\-]+", " ", text).strip().lower()


_MODE_LOOKUP = {_normalise(m.value): m for m in Mode} | {
    _normalise(label): m for label, m in TD_MODE_LABELS.items()
}
_RECORD_TYPE_LOOKUP = {_normalise(r.value): r for r in RecordType}


def parse_mode(text: str) -> Mode:
    """``user_track`` or Treasure Data's ``User - Track`` (case and spacing forgiven)."""
    mode = _MODE_LOOKUP.get(_normalise(text))
    if mode is None:
        choices = ", ".join([m.value for m in Mode] + [f'"{x}"' for x in TD_MODE_LABELS])
        raise ValueError(f"unknown mode {text!r}; expected one of {choices}")
    return mode


def parse_record_type(text: str) -> RecordType:
    """``custom_events``, ``purchases`` or ``user_attributes`` (``Custom Events`` too)."""
    record_type = _RECORD_TYPE_LOOKUP.get(_normalise(text))
    if record_type is None:
        choices = ", ".join(r.value for r in RecordType)
        raise ValueError(f"unknown track record type {text!r}; expected one of {choices}")
    return record_type


class RateGroup(enum.StrEnum):
    """Braze's rate-limit buckets: /users/track alone; alias, identify and delete share one."""

    TRACK = "track"
    USERS = "users"
    SUBSCRIPTION = "subscription"  # /subscription/status/set and its v2


@dataclass(frozen=True)
class Target:
    """Where one mode's objects go: the endpoint path and the body's array key."""

    path: str
    array_key: str  # for user_delete: the default; each row names its own identifier kind
    rate_group: RateGroup

    @property
    def name(self) -> str:
        return self.path.lstrip("/")


TRACK_ARRAYS = {
    RecordType.CUSTOM_EVENTS: "events",
    RecordType.PURCHASES: "purchases",
    RecordType.USER_ATTRIBUTES: "attributes",
}

# /users/identify: an alias, an email or a phone number to identify, one array per request.
IDENTIFY_KINDS = ("aliases_to_identify", "emails_to_identify", "phone_numbers_to_identify")

# /v2/subscription/status/set: each group object names its users by one of these; a request
# never mixes them (Braze refuses emails and phones together).
SUBSCRIPTION_KINDS = ("external_ids", "emails", "phones")
SUBSCRIPTION_ARRAY = "subscription_groups"


def subscription_kind(identifier_kind: str) -> str:
    """The batch kind of a subscription row: the body's array and, after ``#``, the identifier
    kind that keeps requests apart (``batching.array_of`` strips it)."""
    return f"{SUBSCRIPTION_ARRAY}#{identifier_kind}"


# /users/delete takes exactly one of these arrays per request.
DELETE_KINDS = ("external_ids", "user_aliases", "braze_ids", "email_addresses", "phone_numbers")


def target_for(mode: Mode, record_type: RecordType | None) -> Target:
    if mode is Mode.TRACK:
        if record_type is None:
            raise ValueError("user_track needs a track record type")
        return Target("/users/track", TRACK_ARRAYS[record_type], RateGroup.TRACK)
    if mode is Mode.NEW_ALIAS:
        return Target("/users/alias/new", "user_aliases", RateGroup.USERS)
    if mode is Mode.IDENTIFY:
        return Target("/users/identify", "aliases_to_identify", RateGroup.USERS)
    if mode is Mode.SUBSCRIPTION_STATUS:
        return Target(
            "/v2/subscription/status/set", subscription_kind("external_ids"), RateGroup.SUBSCRIPTION
        )
    return Target("/users/delete", "external_ids", RateGroup.USERS)


def export_label(mode: Mode, record_type: RecordType | None) -> str:
    """The mode as it is written in the ledger and the report: ``user_track:custom_events``."""
    if mode is Mode.TRACK and record_type is not None:
        return f"{mode.value}:{record_type.value}"
    return mode.value
