"""Braze's rules for each kind of object, checked before anything is sent.

Every check returns the reason a Braze object would be refused, or None. Pure functions: the
same element always gets the same answer.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass

from braze_currents.exporter.modes import Mode, RecordType
from braze_currents.exporter.payload import (
    FLAG_MERGE_OBJECTS,
    FLAG_UPDATE_EXISTING,
    PRIMARY_IDENTIFIERS,
)

MAX_KEY_CHARS = 255
MAX_STRING_CHARS = 255
MAX_EXTERNAL_ID_BYTES = 987
MAX_NESTED_PROPERTY_BYTES = 50 * 1024
MIN_QUANTITY, MAX_QUANTITY = 1, 100

# ISO 4217 alphabetic codes (current, plus a few recently withdrawn ones Braze may still meet).
_ISO_4217_CODES = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN
    BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP
    ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HRK HTG HUF IDR ILS INR IQD IRR
    ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD
    MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR
    PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL
    THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF
    XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF XPT XSU XUA YER ZAR ZMW ZWG ZWL
"""
ISO_4217 = frozenset(_ISO_4217_CODES.split())


@dataclass(frozen=True)
class Limits:
    max_key_chars: int = MAX_KEY_CHARS
    max_string_chars: int = MAX_STRING_CHARS
    max_external_id_bytes: int = MAX_EXTERNAL_ID_BYTES
    max_nested_property_bytes: int = MAX_NESTED_PROPERTY_BYTES


def check_key(key: str, what: str, limits: Limits = Limits()) -> str | None:
    if not key:
        return f"{what} name is empty"
    if len(key) > limits.max_key_chars:
        return f"{what} name {key[:40]!r}... is longer than {limits.max_key_chars} characters"
    if key[0] == "$":
        return f"{what} name {key!r} starts with '$'"
    return None


def check_time(value: object, field: str = "time") -> str | None:
    if not isinstance(value, str):
        return f"{field} must be an ISO-8601 string, got {type(value).__name__}"
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        return f"{field} {value[:40]!r} is not an ISO-8601 date-time"
    return None


def _check_string(value: str, what: str, limits: Limits) -> str | None:
    if len(value) > limits.max_string_chars:
        return f"{what} is a string longer than {limits.max_string_chars} characters"
    return None


def _check_id_text(value: object, field: str, limits: Limits) -> str | None:
    if not isinstance(value, str) or not value:
        return f"{field} must be a non-empty string"
    limit = limits.max_external_id_bytes
    if field == "external_id" and len(value) * 4 > limit and len(value.encode()) > limit:
        return f"external_id is longer than {limits.max_external_id_bytes} bytes"
    return None


def _check_alias(value: object, limits: Limits) -> str | None:
    if not isinstance(value, dict):
        return "user_alias must be an object"
    for part in ("alias_name", "alias_label"):
        reason = _check_id_text(value.get(part), part, limits)
        if reason:
            return reason
    return None


def check_identifier(obj: dict, lookup_keys_count: bool, limits: Limits = Limits()) -> str | None:
    """Exactly one primary identifier (external_id, user_alias, braze_id); with none, email or
    phone as the lookup key (both: Braze uses the email). ``lookup_keys_count``: email/phone
    are identifiers even next to a primary one (events, purchases), instead of attributes
    (user attributes)."""
    primaries = [k for k in PRIMARY_IDENTIFIERS if k in obj]
    lookups = [k for k in ("email", "phone") if k in obj]
    if not primaries and len(lookups) == 2:  # Braze uses the email; the phone must be sound
        return _check_id_text(obj["email"], "email", limits) or _check_id_text(
            obj["phone"], "phone", limits
        )
    found = primaries + lookups if (lookup_keys_count or not primaries) else primaries
    if not found:
        return "no identifier (external_id, braze_id, alias_name + alias_label, email or phone)"
    if len(found) > 1:
        return "more than one identifier (" + ", ".join(found) + "): Braze rejects the object"
    key = found[0]
    if key == "user_alias":
        return _check_alias(obj[key], limits)
    return _check_id_text(obj[key], key, limits)


def _check_flags(obj: dict, flags: tuple[str, ...]) -> str | None:
    for flag in flags:
        if flag in obj and not isinstance(obj[flag], bool):
            return f"{flag} must be a boolean"
    return None


def check_properties(props: object, limits: Limits = Limits()) -> str | None:
    if not isinstance(props, dict):
        return "properties must be an object"
    nested = []
    for key, value in props.items():
        reason = check_key(key, "property", limits)
        if reason:
            return reason
        if isinstance(value, str):
            reason = _check_string(value, f"property {key!r}", limits)
            if reason:
                return reason
        elif isinstance(value, dict | list):
            nested.append(value)
    if nested:
        size = len(json.dumps(nested, separators=(",", ":"), default=str).encode())
        if size > limits.max_nested_property_bytes:
            return (
                f"nested properties hold {size} bytes, more than {limits.max_nested_property_bytes}"
            )
    return None


def _check_common(obj: dict, limits: Limits) -> str | None:
    reason = check_identifier(obj, lookup_keys_count=True, limits=limits)
    if reason:
        return reason
    reason = check_time(obj.get("time")) if "time" in obj else "time is required"
    if reason:
        return reason
    if "app_id" in obj and not isinstance(obj["app_id"], str):
        return "app_id must be a string"
    if "properties" in obj:
        reason = check_properties(obj["properties"], limits)
        if reason:
            return reason
    return _check_flags(obj, (FLAG_UPDATE_EXISTING,))


def check_event(obj: dict, limits: Limits = Limits()) -> str | None:
    name = obj.get("name")
    if name is None:
        return "name is required"
    if not isinstance(name, str):
        return "name must be a string"
    reason = check_key(name, "event", limits)
    return reason or _check_common(obj, limits)


def check_purchase(obj: dict, limits: Limits = Limits()) -> str | None:
    product_id = obj.get("product_id")
    if product_id is None:
        return "product_id is required"
    if not isinstance(product_id, str) or not product_id:
        return "product_id must be a non-empty string"
    if len(product_id) > limits.max_key_chars:
        return f"product_id is longer than {limits.max_key_chars} characters"
    currency = obj.get("currency")
    if currency is None:
        return "currency is required"
    if not isinstance(currency, str) or currency not in ISO_4217:
        return f"currency {currency!r} is not an ISO-4217 code (3 letters such as USD)"
    price = obj.get("price")
    if price is None:
        return "price is required"
    if isinstance(price, bool) or not isinstance(price, int | float):
        return f"price {price!r} is not a number"
    if "quantity" in obj:
        quantity = obj["quantity"]
        if isinstance(quantity, float) and quantity.is_integer():
            quantity = obj["quantity"] = int(quantity)
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            return f"quantity {quantity!r} is not an integer"
        if not MIN_QUANTITY <= quantity <= MAX_QUANTITY:
            return f"quantity {quantity} is outside {MIN_QUANTITY}..{MAX_QUANTITY}"
    return _check_common(obj, limits)


def check_attributes(obj: dict, limits: Limits = Limits()) -> str | None:
    reason = check_identifier(obj, lookup_keys_count=False, limits=limits)
    if reason:
        return reason
    for key, value in obj.items():
        if key in PRIMARY_IDENTIFIERS or key in (FLAG_UPDATE_EXISTING, FLAG_MERGE_OBJECTS):
            continue
        reason = check_key(key, "attribute", limits)
        if reason:
            return reason
        if isinstance(value, str):
            reason = _check_string(value, f"attribute {key!r}", limits)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, str) and len(item) > limits.max_string_chars:
                    reason = (
                        f"attribute {key!r} holds a string longer than {limits.max_string_chars}"
                    )
                    break
        if reason:
            return reason
    return _check_flags(obj, (FLAG_UPDATE_EXISTING, FLAG_MERGE_OBJECTS))


def check_new_alias(obj: dict, limits: Limits = Limits()) -> str | None:
    for part in ("alias_name", "alias_label"):
        reason = _check_id_text(obj.get(part), part, limits)
        if reason:
            return reason
    if "external_id" in obj:
        return _check_id_text(obj["external_id"], "external_id", limits)
    return None


def check_prioritization(value: object) -> str | None:
    """Braze's ``prioritization`` list: known values, each once, not both ``identified`` and
    ``unidentified``."""
    known = {"identified", "unidentified", "most_recently_updated"}
    if not isinstance(value, list) or not value or not set(value) <= known:
        return f"prioritization must be a list of {sorted(known)}"
    if len(set(value)) != len(value) or {"identified", "unidentified"} <= set(value):
        return "prioritization names a value twice, or both identified and unidentified"
    return None


def check_identify(obj: dict, limits: Limits = Limits()) -> str | None:
    reason = _check_id_text(obj.get("external_id"), "external_id", limits)
    if reason:
        return reason
    for field in ("email", "phone"):
        if field in obj:
            reason = _check_id_text(obj[field], field, limits)
            return reason or check_prioritization(obj.get("prioritization"))
    return _check_alias(obj.get("user_alias"), limits)


def check_delete(kind: str, value: object, limits: Limits = Limits()) -> str | None:
    if kind == "user_aliases":
        return _check_alias(value, limits)
    if kind in ("external_ids", "braze_ids"):
        return _check_id_text(value, kind[:-1], limits)
    field = "email" if kind == "email_addresses" else "phone"
    if not isinstance(value, dict):
        return f"{kind} entries must be objects"
    return _check_id_text(value.get(field), field, limits)


def check_subscription(obj: dict, limits: Limits = Limits()) -> str | None:
    ids = [k for k in ("external_ids", "emails", "phones") if k in obj]
    if len(ids) != 1 or not isinstance(obj[ids[0]], list) or len(obj[ids[0]]) != 1:
        return "a subscription entry names exactly one user"
    reason = _check_id_text(obj[ids[0]][0], ids[0][:-1], limits)
    if reason:
        return reason
    if not isinstance(obj.get("subscription_group_id"), str) or not obj["subscription_group_id"]:
        return "subscription_group_id must be a non-empty string"
    if obj.get("subscription_state") not in ("subscribed", "unsubscribed"):
        return "subscription_state must be 'subscribed' or 'unsubscribed'"
    return _check_flags(obj, ("use_double_opt_in_logic",))


def checker_for(
    mode: Mode, record_type: RecordType | None, limits: Limits = Limits()
) -> Callable[[str, object], str | None]:
    """The check for one mode's array elements, called as ``check(kind, element)``."""
    if mode is Mode.DELETE:
        return lambda kind, element: check_delete(kind, element, limits)
    fn: Callable[[dict, Limits], str | None]
    if mode is Mode.NEW_ALIAS:
        fn = check_new_alias
    elif mode is Mode.IDENTIFY:
        fn = check_identify
    elif mode is Mode.SUBSCRIPTION_STATUS:
        fn = check_subscription
    elif record_type is RecordType.CUSTOM_EVENTS:
        fn = check_event
    elif record_type is RecordType.PURCHASES:
        fn = check_purchase
    else:
        fn = check_attributes
    return lambda kind, element: fn(element, limits)  # type: ignore[arg-type]
