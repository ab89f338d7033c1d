"""A local Braze REST emulator: the four user endpoints, their limits and their failures.

Standard library only (``http.server``), one thread per connection, HTTP/1.1 keep-alive.
"""

from __future__ import annotations

import contextlib
import json
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from braze_currents.devtools.emulator import rules

MAX_BODY_BYTES = 4 * 1024 * 1024


@dataclass
class Faults:
    """Failures to inject. ``schedule`` maps a request number (1-based, counting every POST to
    a Braze endpoint) to an action; otherwise each rate is a probability per request.
    Actions: an HTTP status (429, 500, 502, 503...), ``"drop"`` (close the connection without
    an answer, nothing processed) or ``"drop_after"`` (process, then close without answer)."""

    error_rate: float = 0.0
    error_status: int = 503
    rate_limit_rate: float = 0.0
    drop_rate: float = 0.0
    schedule: dict[int, int | str] = field(default_factory=dict)
    retry_after: float = 0.05  # seconds a fault 429 asks the client to wait
    seed: int | None = None


@dataclass
class EmulatorConfig:
    api_key: str = "emulator-key"
    # key -> permissions; None: ``api_key`` with every permission
    keys: dict[str, set[str]] | None = None
    latency: float = 0.0  # seconds added to every answer
    latency_jitter: float = 0.0  # plus up to this many, at random
    max_body_bytes: int = MAX_BODY_BYTES
    track_max_objects: int = 75
    track_limit_per_array: bool = False  # legacy accounts: 75 per array instead of in total
    bulk_max_objects: int = 1000  # /users/track/bulk: 1,000 users ...
    bulk_max_body_bytes: int = 2 * 1024 * 1024  # ... and 2 MB a request
    users_max_objects: int = 50
    track_rate: tuple[int, float] = (3000, 3.0)  # requests per window (seconds)
    users_rate: tuple[int, float] = (20000, 60.0)
    subscription_rate: tuple[int, float] = (5000, 60.0)
    subscription_max_users: int = 50
    # how a 429 says when to come back: "epoch" (X-RateLimit-Reset, unix time), "seconds"
    # (X-RateLimit-Reset, seconds remaining) or "retry-after" (X-Ratelimit-Retry-After)
    reset_style: str = "seconds"
    lowercase_headers: bool = False
    echo_key_in_errors: bool = False  # a careless server: tests that the client scrubs it
    faults: Faults = field(default_factory=Faults)
    # extra rule a test may add: (array, object) -> error type or None
    reject: Callable[[str, object], str | None] | None = None
    # any invalid object fails the whole request with a 400 that names no object (the client
    # must then isolate the bad rows itself)
    strict_batches: bool = False


class Store:
    """Everything the emulator accepted, in arrival order. Thread-safe; tests read it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events: list[dict] = []
        self.purchases: list[dict] = []
        self.attributes: list[dict] = []
        self.aliases: list[dict] = []
        self.identified: list[dict] = []
        self.deleted: list[tuple[str, object]] = []
        self.subscriptions: list[tuple[str, str, str, str]] = []  # group, state, kind, id
        self.statuses: Counter[int] = Counter()
        self.requests = 0  # POSTs to Braze endpoints, whatever their fate
        self.dropped = 0
        self.objects_received = 0
        self.bulk_requests = 0  # answered on /users/track/bulk
        self.max_body_bytes = 0  # the largest request body received
        self.nested_voided = 0  # nested attribute updates dropped with a request's bad one
        self.attributes_ignored = 0  # alias rows, update-only, for an alias nobody created
        self.known_aliases: set[tuple[str, str] | None] = set()  # (name, label) created
        self.in_flight = 0  # requests being handled now
        self.max_in_flight = 0
        self.in_flight_at_first: int | None = None  # requests in flight when the first came

    def reset(self) -> None:
        with self.lock:
            self.__init__()  # type: ignore[misc]

    def stats(self) -> dict[str, object]:
        with self.lock:
            return {
                "requests": self.requests,
                "dropped": self.dropped,
                "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
                "objects_received": self.objects_received,
                "events": len(self.events),
                "purchases": len(self.purchases),
                "attributes": len(self.attributes),
                "aliases": len(self.aliases),
                "identified": len(self.identified),
                "deleted": len(self.deleted),
                "subscriptions": len(self.subscriptions),
            }

    def dump(self) -> dict[str, object]:
        with self.lock:
            return {
                "events": list(self.events),
                "purchases": list(self.purchases),
                "attributes": list(self.attributes),
                "aliases": list(self.aliases),
                "identified": list(self.identified),
                "deleted": [list(d) for d in self.deleted],
                "subscriptions": [list(s) for s in self.subscriptions],
            }


class _Window:
    """A fixed rate-limit window, as Braze's headers describe it."""

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit, self.seconds = limit, seconds
        self.start = time.time()
        self.used = 0
        self.lock = threading.Lock()

    def take(self) -> tuple[bool, int, float]:
        """(allowed, remaining, reset unix time)."""
        with self.lock:
            now = time.time()
            if now - self.start >= self.seconds:
                self.start, self.used = now, 0
            allowed = self.used < self.limit
            if allowed:
                self.used += 1
            return allowed, max(0, self.limit - self.used), self.start + self.seconds


class _Reply(Exception):
    def __init__(self, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
        self.status, self.body, self.headers = status, body, headers or {}


class EmulatorState:
    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.store = Store()
        self.windows = {
            "track": _Window(*config.track_rate),
            "users": _Window(*config.users_rate),
            "subscription": _Window(*config.subscription_rate),
        }
        self.rng = random.Random(config.faults.seed)
        self.rng_lock = threading.Lock()

    def keys(self) -> dict[str, set[str]]:
        if self.config.keys is not None:
            return self.config.keys
        return {self.config.api_key: set(rules.PERMISSIONS)}

    def fault_for(self, number: int) -> int | str | None:
        faults = self.config.faults
        if number in faults.schedule:
            return faults.schedule[number]
        if not (faults.drop_rate or faults.error_rate or faults.rate_limit_rate):
            return None
        with self.rng_lock:
            roll = self.rng.random()
        if roll < faults.drop_rate:
            return "drop"
        roll -= faults.drop_rate
        if roll < faults.rate_limit_rate:
            return 429
        roll -= faults.rate_limit_rate
        if roll < faults.error_rate:
            return faults.error_status
        return None

    def pause(self) -> None:
        c = self.config
        delay = c.latency
        if c.latency_jitter:
            with self.rng_lock:
                delay += self.rng.random() * c.latency_jitter
        if delay > 0:
            time.sleep(delay)


# --- endpoint logic ----------------------------------------------------------------------------


def _track_bulk(state: EmulatorState, body: dict) -> tuple[int, dict]:
    """/users/track/bulk: /users/track's objects, up to ``bulk_max_objects`` a request."""
    arrays = [body[k] for k in rules.TRACK_ARRAYS if isinstance(body.get(k), list)]
    if sum(len(v) for v in arrays) > state.config.bulk_max_objects:
        raise _Reply(400, {"message": "Max Input Length Exceeded", "errors": ["too many objects"]})
    with state.store.lock:
        state.store.bulk_requests += 1
    return _track(state, body, bulk=True)


def _track(state: EmulatorState, body: dict, bulk: bool = False) -> tuple[int, dict]:
    c = state.config
    arrays = {k: body[k] for k in rules.TRACK_ARRAYS if k in body}
    if not arrays or not all(isinstance(v, list) for v in arrays.values()):
        raise _Reply(400, {"message": rules.FATAL_TRACK_MESSAGE})
    sizes = [len(v) for v in arrays.values()]
    too_many = not bulk and (
        max(sizes) > c.track_max_objects
        if c.track_limit_per_array
        else sum(sizes) > c.track_max_objects
    )
    if too_many:
        raise _Reply(400, {"message": "Max Input Length Exceeded", "errors": ["too many objects"]})
    errors: list[dict] = []
    accepted: dict[str, list] = {k: [] for k in rules.TRACK_ARRAYS}
    for array, objects in arrays.items():
        for index, obj in enumerate(objects):
            error = rules.track_object_error(array, obj)
            if error is None and c.reject is not None:
                error = c.reject(array, obj)
            if error:
                errors.append({"type": error, "input_array": array, "index": index})
            else:
                accepted[array].append(obj)
    accepted["attributes"] = _void_nested(state, _update_only(state, accepted["attributes"]))
    total = sum(len(v) for v in accepted.values())
    if errors and c.strict_batches:
        raise _Reply(400, {"message": "Invalid object in request"})
    if total == 0:
        raise _Reply(400, {"message": rules.FATAL_TRACK_MESSAGE, "errors": errors})
    with state.store.lock:
        state.store.attributes.extend(accepted["attributes"])
        state.store.events.extend(accepted["events"])
        state.store.purchases.extend(accepted["purchases"])
    reply: dict[str, object] = {"message": "success"}
    for array in rules.TRACK_ARRAYS:
        if array in arrays:
            reply[f"{array}_processed"] = len(accepted[array])
    if errors:
        reply["errors"] = errors
    return 201, reply


def _alias_key(alias: object) -> tuple[str, str] | None:
    if isinstance(alias, dict):
        return (str(alias.get("alias_name")), str(alias.get("alias_label")))
    return None


def _update_only(state: EmulatorState, attributes: list[dict]) -> list[dict]:
    """Braze's documented default: an attribute object identified by ``user_alias`` is
    update-only unless it sends ``"_update_existing_only": false``; for an alias no one created
    (by /users/alias/new or such an object) it changes nothing, and the answer is still 201."""
    store = state.store
    with store.lock:
        known = store.known_aliases
        kept = []
        for obj in attributes:
            alias = _alias_key(obj.get("user_alias"))
            if (
                alias is not None
                and "external_id" not in obj
                and "braze_id" not in obj
                and obj.get("_update_existing_only", True) is not False
                and alias not in known
            ):
                store.attributes_ignored += 1
                continue
            kept.append(obj)
            if alias is not None:
                known.add(alias)
    return kept


def _void_nested(state: EmulatorState, attributes: list[dict]) -> list[dict]:
    """Braze's documented behaviour: when any nested custom attribute of a request holds a null
    or an invalid value, every nested attribute update of the request is dropped, silently
    (the answer is still 201)."""
    nested = [
        (i, key)
        for i, obj in enumerate(attributes)
        for key, value in obj.items()
        if rules.is_nested_attribute(value)
    ]
    if not any(rules.nested_value_error(attributes[i][key]) for i, key in nested):
        return attributes
    kept = [dict(obj) for obj in attributes]
    for i, key in nested:
        del kept[i][key]
    with state.store.lock:
        state.store.nested_voided += len(nested)
    return kept


def _users(
    state: EmulatorState,
    array: str,
    objects: object,
    check: Callable[[object], str | None],
) -> tuple[list, list[dict]]:
    c = state.config
    if not isinstance(objects, list) or not objects:
        raise _Reply(400, {"message": f"'{array}' must be a non-empty array"})
    if len(objects) > c.users_max_objects:
        raise _Reply(400, {"message": "Max Input Length Exceeded", "errors": ["too many objects"]})
    accepted, errors = [], []
    for index, obj in enumerate(objects):
        error = check(obj)
        if error is None and c.reject is not None:
            error = c.reject(array, obj)
        if error:
            errors.append({"type": error, "input_array": array, "index": index})
        else:
            accepted.append(obj)
    if errors and c.strict_batches:
        raise _Reply(400, {"message": "Invalid object in request"})
    if not accepted:
        raise _Reply(400, {"message": "No valid objects", "errors": errors})
    return accepted, errors


def _aliases_endpoint(
    array: str, check: Callable[[object], str | None], stored: str
) -> Callable[[EmulatorState, dict], tuple[int, dict]]:
    """/users/alias/new and /users/identify: one array, stored in ``Store.<stored>``."""

    def handle(state: EmulatorState, body: dict) -> tuple[int, dict]:
        accepted, errors = _users(state, array, body.get(array), check)
        with state.store.lock:
            getattr(state.store, stored).extend(accepted)
            if stored == "aliases":
                state.store.known_aliases.update(_alias_key(a) for a in accepted)
        reply: dict[str, object] = {"aliases_processed": len(accepted), "message": "success"}
        if errors:
            reply["errors"] = errors
        return 201, reply

    return handle


_alias_new = _aliases_endpoint("user_aliases", rules.new_alias_error, "aliases")


def _identify(state: EmulatorState, body: dict) -> tuple[int, dict]:
    """/users/identify: ``aliases_to_identify``, ``emails_to_identify`` and
    ``phone_numbers_to_identify``, at most ``users_max_objects`` entries in all."""
    present = [k for k in rules.IDENTIFY_ARRAYS if k in body]
    if not present:
        raise _Reply(400, {"message": "nothing to identify"})
    total = sum(len(body[k]) for k in present if isinstance(body[k], list))
    if total > state.config.users_max_objects:
        raise _Reply(400, {"message": "Max Input Length Exceeded", "errors": ["too many objects"]})
    accepted_all, errors_all = [], []
    for array in present:
        accepted, errors = _users(
            state, array, body[array], lambda obj, a=array: rules.identify_error(obj, a)
        )
        accepted_all += accepted
        errors_all += errors
    with state.store.lock:
        state.store.identified.extend(accepted_all)
    reply: dict[str, object] = {"aliases_processed": len(accepted_all), "message": "success"}
    if errors_all:
        reply["errors"] = errors_all
    return 201, reply


def _delete(state: EmulatorState, body: dict) -> tuple[int, dict]:
    present = [k for k in rules.DELETE_ARRAYS if k in body]
    if len(present) != 1:
        raise _Reply(400, {"message": "exactly one identifier type must be given per request"})
    array = present[0]
    accepted, errors = _users(
        state, array, body[array], lambda value: rules.delete_error(array, value)
    )
    with state.store.lock:
        state.store.deleted.extend((array, v) for v in accepted)
    reply: dict[str, object] = {"deleted": len(accepted), "message": "success"}
    if errors:
        reply["errors"] = errors
    return 201, reply


def _subscription_status(state: EmulatorState, body: dict) -> tuple[int, dict]:
    """/v2/subscription/status/set: Braze validates the request as a whole (400 on any bad
    entry), at most ``subscription_max_users`` users in all, never emails and phones together."""
    groups = body.get("subscription_groups")
    if not isinstance(groups, list) or not groups:
        raise _Reply(400, {"message": "'subscription_groups' must be a non-empty array"})
    for index, group in enumerate(groups):
        error = rules.subscription_group_error(group)
        if error:
            raise _Reply(400, {"message": f"subscription_groups[{index}]: {error}"})
    kinds = {k for g in groups for k in rules.SUBSCRIPTION_ID_KINDS if k in g}
    if {"emails", "phones"} <= kinds:
        raise _Reply(400, {"message": "emails and phones cannot be sent in one request"})
    users = sum(len(g[k]) for g in groups for k in rules.SUBSCRIPTION_ID_KINDS if k in g)
    if users > state.config.subscription_max_users:
        raise _Reply(400, {"message": "Max Input Length Exceeded", "errors": ["too many users"]})
    with state.store.lock:
        for g in groups:
            for kind in rules.SUBSCRIPTION_ID_KINDS:
                for user in g.get(kind, ()):
                    state.store.subscriptions.append(
                        (g["subscription_group_id"], g["subscription_state"], kind, user)
                    )
    return 201, {"message": "success"}


ENDPOINTS = {
    "/users/track": ("track", _track),
    "/users/track/bulk": ("track", _track_bulk),
    "/users/alias/new": ("users", _alias_new),
    "/users/identify": ("users", _identify),
    "/users/delete": ("users", _delete),
    "/v2/subscription/status/set": ("subscription", _subscription_status),
}


# --- HTTP ----------------------------------------------------------------------------------------


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms stalls
    server_version = "BrazeEmulator/1.0"
    state: EmulatorState  # set on the subclass the server builds

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def _send(self, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        lower = self.state.config.lowercase_headers
        self.send_response(status)
        for name, value in {
            "Content-Type": "application/json",
            "Content-Length": str(len(data)),
            **(headers or {}),
        }.items():
            self.send_header(name.lower() if lower else name, value)
        self.end_headers()
        self.wfile.write(data)

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def do_GET(self) -> None:
        store = self.state.store
        if self.path == "/_emulator/stats":
            self._send(200, store.stats())
        elif self.path == "/_emulator/store":
            self._send(200, store.dump())
        else:
            self._send(404, {"message": "not found"})

    def do_POST(self) -> None:
        state = self.state
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.path == "/_emulator/reset":
            state.store.reset()
            self._send(200, {"message": "reset"})
            return
        endpoint = ENDPOINTS.get(self.path)
        if endpoint is None:
            self._send(404, {"message": f"no endpoint {self.path}"})
            return
        group, handle = endpoint
        store = state.store
        with store.lock:
            store.requests += 1
            number = store.requests
            store.in_flight += 1
            store.max_in_flight = max(store.max_in_flight, store.in_flight)
            if store.in_flight_at_first is None:
                store.in_flight_at_first = store.in_flight
        try:
            self._answer(number, group, handle, raw)
        finally:
            with store.lock:
                store.in_flight -= 1

    def _answer(self, number: int, group: str, handle: Callable, raw: bytes) -> None:
        state, store = self.state, self.state.store
        fault = state.fault_for(number)
        state.pause()
        if fault == "drop":
            with store.lock:
                store.dropped += 1
            self._drop()
            return
        try:
            status, reply, headers = self._handle(group, handle, raw, fault)
        except _Reply as r:
            status, reply, headers = r.status, r.body, r.headers
        if fault == "drop_after":
            with store.lock:
                store.dropped += 1
            self._drop()
            return
        with store.lock:
            store.statuses[status] += 1
        self._send(status, reply, headers)

    def _handle(
        self, group: str, handle: Callable, raw: bytes, fault: int | str | None
    ) -> tuple[int, dict, dict[str, str]]:
        state, config = self.state, self.state.config
        auth = self.headers.get("Authorization") or ""
        key = auth[7:].strip() if auth.startswith("Bearer ") else ""
        keys = state.keys()
        if key not in keys:
            text = f"Invalid API key: {key}" if config.echo_key_in_errors else "Invalid API key"
            raise _Reply(401, {"message": text})
        if rules.ENDPOINT_PERMISSION[self.path] not in keys[key]:
            raise _Reply(403, {"message": "Access Denied"})
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise _Reply(415, {"message": "Content-Type must be application/json"})
        with state.store.lock:
            state.store.max_body_bytes = max(state.store.max_body_bytes, len(raw))
        limit = (
            config.bulk_max_body_bytes
            if self.path == "/users/track/bulk"
            else config.max_body_bytes
        )
        if len(raw) > limit:
            raise _Reply(413, {"message": "Payload Too Large"})

        window = state.windows[group]
        allowed, remaining, reset = window.take()
        headers = {
            "X-RateLimit-Limit": str(window.limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": self._reset_value(reset),
        }
        if fault == 429:
            reset = time.time() + config.faults.retry_after
            allowed = False
        if not allowed:
            headers["X-RateLimit-Remaining"] = "0"
            if config.reset_style == "retry-after":
                del headers["X-RateLimit-Reset"]
                headers["X-Ratelimit-Retry-After"] = f"{max(0.0, reset - time.time()):.3f}"
            else:
                headers["X-RateLimit-Reset"] = self._reset_value(reset)
            raise _Reply(429, {"message": "Rate limit exceeded"}, headers)
        if isinstance(fault, int) and fault >= 500:
            raise _Reply(fault, {"message": "Internal Server Error"})
        try:
            body = json.loads(raw)
        except ValueError:
            raise _Reply(400, {"message": "Invalid JSON"}) from None
        if not isinstance(body, dict):
            raise _Reply(400, {"message": "The body must be a JSON object"})
        status, reply = handle(state, body)
        return status, reply, headers

    def _reset_value(self, reset: float) -> str:
        if self.state.config.reset_style == "epoch":
            return str(int(reset + 0.999))
        return f"{max(0.0, reset - time.time()):.3f}"


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024


def make_server(config: EmulatorConfig, host: str = "127.0.0.1", port: int = 0) -> EmulatorServer:
    state = EmulatorState(config)
    handler = type("BoundHandler", (Handler,), {"state": state})
    server = EmulatorServer((host, port), handler)
    server.state = state  # type: ignore[attr-defined]
    return server
