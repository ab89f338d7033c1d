"""How the emulator judges request bodies, after Braze's public documentation.

Written independently of the exporter's validation on purpose: the emulator plays Braze, so
a rule the exporter gets wrong shows up as a rejection here instead of agreeing by
construction. Each function returns an error ``type`` text, or None for a valid object.
"""

from __future__ import annotations

import datetime as dt
import re

PERMISSIONS = (
    "users.track",
    "users.identify",
    "users.alias.new",
    "users.delete",
    "subscription.status.set",
    "users.track.bulk",
)
ENDPOINT_PERMISSION = {
    "/users/track": "users.track",
    "/users/track/bulk": "users.track.bulk",
    "/users/identify": "users.identify",
    "/users/alias/new": "users.alias.new",
    "/users/delete": "users.delete",
    "/v2/subscription/status/set": "subscription.status.set",
}
TRACK_ARRAYS = ("attributes", "events", "purchases")
DELETE_ARRAYS = ("external_ids", "user_aliases", "braze_ids", "email_addresses", "phone_numbers")
FATAL_TRACK_MESSAGE = (
    "Valid data must be provided in the 'attributes', 'events', or 'purchases' fields."
)
_CURRENCY = re.compile(r"[A-Z]{3}")
_PRIORITIES = {"identified", "unidentified", "most_recently_updated"}


def _text(value: object, limit: int = 255) -> bool:
    return isinstance(value, str) and 0 < len(value) <= limit


def _time(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _alias(value: object) -> bool:
    return (
        isinstance(value, dict)
        and _text(value.get("alias_name"))
        and _text(value.get("alias_label"))
    )


def identifier_error(obj: dict) -> str | None:
    primaries = [k for k in ("external_id", "braze_id", "user_alias") if k in obj]
    if len(primaries) > 1:
        return "multiple_identifiers"
    if not primaries:
        if "email" in obj or "phone" in obj:
            return None
        return "missing_identifier"
    key = primaries[0]
    if key == "user_alias":
        return None if _alias(obj[key]) else "invalid_user_alias"
    value = obj[key]
    if (
        not isinstance(value, str)
        or not value
        or (key == "external_id" and len(value.encode()) > 987)
    ):
        return f"invalid_{key}"
    return None


def _keys_error(mapping: dict, skip: tuple[str, ...]) -> str | None:
    for key, value in mapping.items():
        if key in skip:
            continue
        if not isinstance(key, str) or not key or len(key) > 255 or key.startswith("$"):
            return "invalid_key"
        if isinstance(value, str) and len(value) > 255:
            return "string_too_long"
    return None


def _time_and_properties_error(obj: dict) -> str | None:
    if not _time(obj.get("time")):
        return "invalid_time"
    props = obj.get("properties", {})
    if not isinstance(props, dict):
        return "invalid_properties"
    return _keys_error(props, ())


def event_error(obj: dict) -> str | None:
    if not _text(obj.get("name")):
        return "invalid_event_name"
    return _time_and_properties_error(obj)


def purchase_error(obj: dict) -> str | None:
    if not _text(obj.get("product_id")):
        return "invalid_product_id"
    currency = obj.get("currency")
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        return "invalid_currency"
    price = obj.get("price")
    if isinstance(price, bool) or not isinstance(price, int | float):
        return "invalid_price"
    quantity = obj.get("quantity", 1)
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= 100:
        return "invalid_quantity"
    return _time_and_properties_error(obj)


def attributes_error(obj: dict) -> str | None:
    return _keys_error(
        obj, ("external_id", "braze_id", "user_alias", "_update_existing_only", "_merge_objects")
    )


TRACK_CHECKS = {"attributes": attributes_error, "events": event_error, "purchases": purchase_error}


def track_object_error(array: str, obj: object) -> str | None:
    if not isinstance(obj, dict):
        return "invalid_object"
    return identifier_error(obj) or TRACK_CHECKS[array](obj)


def new_alias_error(obj: object) -> str | None:
    if (
        not isinstance(obj, dict)
        or not _text(obj.get("alias_name"))
        or not _text(obj.get("alias_label"))
    ):
        return "invalid_user_alias"
    if "external_id" in obj and not _text(obj["external_id"], 987):
        return "invalid_external_id"
    return None


IDENTIFY_ARRAYS = ("aliases_to_identify", "emails_to_identify", "phone_numbers_to_identify")


def _prioritization_error(priority: object) -> str | None:
    if not isinstance(priority, list) or not priority or not set(priority) <= _PRIORITIES:
        return "invalid_prioritization"
    if len(set(priority)) != len(priority) or {"identified", "unidentified"} <= set(priority):
        return "invalid_prioritization"
    return None


def identify_error(obj: object, array: str = "aliases_to_identify") -> str | None:
    if not isinstance(obj, dict) or not _text(obj.get("external_id"), 987):
        return "invalid_external_id"
    if array == "aliases_to_identify":
        return None if _alias(obj.get("user_alias")) else "invalid_user_alias"
    field = "email" if array == "emails_to_identify" else "phone"
    if not _text(obj.get(field)):
        return f"invalid_{field}"
    return _prioritization_error(obj.get("prioritization"))


def delete_error(array: str, value: object) -> str | None:
    if array in ("external_ids", "braze_ids"):
        return None if _text(value, 987) else "invalid_identifier"
    if array == "user_aliases":
        return None if _alias(value) else "invalid_user_alias"
    field = "email" if array == "email_addresses" else "phone"
    if not isinstance(value, dict) or not _text(value.get(field)):
        return f"invalid_{field}"
    return _prioritization_error(value.get("prioritization"))


OPERATOR_KEYS = frozenset({"inc", "add", "remove"})
_BAD_NESTED_KEY = re.compile(r"[\s.$]")


def is_nested_attribute(value: object) -> bool:
    """A nested custom attribute: an object (not an ``inc``/``add``/``remove`` operator) or an
    array of objects."""
    if isinstance(value, dict):
        return not (value and set(value) <= OPERATOR_KEYS)
    return isinstance(value, list) and any(isinstance(v, dict) for v in value)


def nested_value_error(value: object) -> str | None:
    """Why Braze would drop a nested attribute value: a null anywhere inside it, or a key name
    that is empty or holds a space, ``.`` or ``$`` (``{"$time": ...}`` is the date wrapper)."""
    if value is None:
        return "null_in_nested_attribute"
    if isinstance(value, dict):
        if set(value) == {"$time"}:
            return None if _time(value["$time"]) else "invalid_nested_time"
        for key, inner in value.items():
            if not isinstance(key, str) or not key or _BAD_NESTED_KEY.search(key):
                return "invalid_nested_key"
            error = nested_value_error(inner)
            if error:
                return error
    elif isinstance(value, list):
        for inner in value:
            error = nested_value_error(inner)
            if error:
                return error
    return None


SUBSCRIPTION_ID_KINDS = ("external_ids", "emails", "phones")


def subscription_group_error(group: object) -> str | None:
    """One ``subscription_groups`` entry of /v2/subscription/status/set."""
    if not isinstance(group, dict) or not _text(group.get("subscription_group_id")):
        return "invalid_subscription_group_id"
    if group.get("subscription_state") not in ("subscribed", "unsubscribed"):
        return "invalid_subscription_state"
    kinds = [k for k in SUBSCRIPTION_ID_KINDS if k in group]
    if not kinds:
        return "missing_users"
    for kind in kinds:
        ids = group[kind]
        if not isinstance(ids, list) or not ids or not all(_text(i, 987) for i in ids):
            return f"invalid_{kind}"
    flag = group.get("use_double_opt_in_logic", False)
    return None if isinstance(flag, bool) else "invalid_use_double_opt_in_logic"
