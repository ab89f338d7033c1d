"""A seeded, streaming generator of Braze Currents batches for demos, tests and benchmarks.

It simulates N users over D days: campaigns and Canvases with variations and steps, a funnel
per channel (sends >= deliveries >= opens >= clicks, bounces, unsubscribes), sessions,
purchases in several currencies, custom events and the rarer behaviours, so that every event
type of the project's catalogue (``braze_currents.catalog``) occurs. Field lists come from the
catalogue, so a field added there is generated too.

A run can be limited to some event families (what a customer ticks in a Currents connector:
``families``) and can write events in the flat envelope of Braze's storage connectors (ids and
fields at the top level, custom event and purchase properties as JSON text: ``envelope``).

Memory does not grow with the number of events: batches are yielded as they fill. The same
settings and seed give byte-identical output.
"""

from __future__ import annotations

import json
import math
import random
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from braze_currents.catalog import by_event_type

# Average distinct events one user produces per simulated day; used to size the user base
# when only a number of events is asked for. Measured on the generator itself.
EVENTS_PER_USER_DAY = 6.0

CURRENCIES = (
    ("USD", 0.58),
    ("EUR", 0.2),
    ("GBP", 0.1),
    ("JPY", 0.06),
    ("BRL", 0.05),
    ("CAD", 0.01),
)
TIMEZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Paris",
    "Asia/Tokyo",
    "America/Sao_Paulo",
    "Australia/Sydney",
)
EMAIL_DOMAINS = (
    ("gmail.com", "Gmail", 0.45),
    ("yahoo.com", "Yahoo", 0.15),
    ("outlook.com", "Microsoft", 0.15),
    ("icloud.com", "Apple", 0.12),
    ("acme-corp.com", "Google Workspace", 0.08),
    ("web.de", "Web.de", 0.05),
)
ESPS = ("SendGrid", "SparkPost", "Amazon SES")
CARRIERS = ("Verizon", "T-Mobile", "AT&T", "Vodafone", "Orange")
PLATFORMS = (("ios", 0.45), ("android", 0.4), ("web", 0.15))
CUSTOM_EVENT_NAMES = (
    "viewed_product",
    "added_to_cart",
    "started_checkout",
    "searched",
    "shared_item",
    "rated_app",
    "completed_onboarding",
    "watched_video",
)
# Channels of messaging campaigns and Canvas steps, with their weight.
CHANNELS = (
    ("email", 0.34),
    ("pushnotification", 0.22),
    ("sms", 0.1),
    ("inappmessage", 0.08),
    ("contentcard", 0.07),
    ("whatsapp", 0.05),
    ("webhook", 0.04),
    ("banner", 0.03),
    ("rcs", 0.03),
    ("line", 0.02),
    ("liveactivity", 0.01),
    ("newsfeedcard", 0.01),
)

# Event families, as a Currents connector offers them: each event type belongs to the first
# family one of whose prefixes it starts with; a type of no family is in "other".
FAMILIES = {
    "email": ("users.messages.email.",),
    "push": ("users.messages.pushnotification.", "users.behaviors.pushnotification."),
    "sms": ("users.messages.sms.",),
    "inapp": ("users.messages.inappmessage.",),
    "contentcards": ("users.messages.contentcard.",),
    "whatsapp": ("users.messages.whatsapp.",),
    "rcs": ("users.messages.rcs.",),
    "line": ("users.messages.line.",),
    "webhook": ("users.messages.webhook.",),
    "banner": ("users.messages.banner.",),
    "liveactivity": ("users.messages.liveactivity.", "users.behaviors.liveactivity."),
    "newsfeed": ("users.messages.newsfeedcard.",),
    "featureflags": ("users.messages.featureflag.",),
    "campaigns": ("users.campaigns.",),
    "canvas": ("users.canvas.", "users.canvasstep."),
    "sessions": ("users.behaviors.app.",),
    "custom_events": ("users.behaviors.CustomEvent",),
    "purchases": ("users.behaviors.Purchase",),
    "subscriptions": ("users.behaviors.subscription.", "users.behaviors.subscriptiongroup."),
    "other": (),
}
ENVELOPES = ("http", "flat", "mixed")


def family_of(event_type: str) -> str:
    """The family of an event type (see FAMILIES)."""
    for family, prefixes in FAMILIES.items():
        if event_type.startswith(prefixes):
            return family
    return "other"


@dataclass(frozen=True)
class GeneratorSettings:
    events: int | None = 10_000  # distinct usable events to produce; None: run all days
    users: int | None = None  # default: sized so that `events` fill about `days` days
    days: int = 30
    start: date = date(2026, 10, 1)
    seed: int = 42
    batch_size: int = 100  # events per Currents batch
    duplicate_rate: float = 0.0  # share of events delivered a second time, in a later batch
    batch_redelivery_rate: float = 0.0  # share of batches whose whole body is delivered twice
    malformed_rate: float = 0.0  # share of records (lines) that are broken in some way
    bad_event_rate: float = 0.0  # share of events without id / type, or with a bad time
    unknown_type_rate: float = 0.0  # share of events of types no catalogue knows yet
    drift_rate: float = 0.0  # share of events with a new field or a wrongly typed value
    families: tuple[str, ...] | None = None  # only events of these families; None: all
    envelope: str = "http"  # http (Custom HTTP), flat (storage), mixed (each event either)

    def __post_init__(self) -> None:
        if self.families is not None:
            unknown = sorted(set(self.families) - set(FAMILIES))
            if unknown or not self.families:
                raise ValueError(
                    f"families must be some of {', '.join(FAMILIES)}; got {unknown or 'none'}"
                )
        if self.envelope not in ENVELOPES:
            raise ValueError(f"envelope must be one of {', '.join(ENVELOPES)}, got {self.envelope}")
        for name in (
            "duplicate_rate",
            "batch_redelivery_rate",
            "malformed_rate",
            "bad_event_rate",
            "unknown_type_rate",
            "drift_rate",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        if self.events is not None and self.events < 0:
            raise ValueError("events must be >= 0")
        if self.days < 1 or self.batch_size < 1:
            raise ValueError("days and batch_size must be >= 1")
        if self.users is not None and self.users < 1:
            raise ValueError("users must be >= 1")

    @property
    def user_count(self) -> int:
        if self.users is not None:
            return self.users
        if self.events is None:
            return 1000
        return max(20, math.ceil(self.events / (self.days * EVENTS_PER_USER_DAY)))


@dataclass
class GeneratorStats:
    """What was generated, so tests and benchmarks can compare the warehouse with it."""

    records: int = 0  # input records written (lines / array elements / CSV rows)
    batches: int = 0  # well-formed batch bodies (redelivered copies included)
    redelivered_batches: int = 0
    malformed_records: Counter = field(default_factory=Counter)  # reason -> records
    events_by_type: Counter = field(default_factory=Counter)  # distinct usable events
    duplicate_deliveries: int = 0  # extra copies of usable events
    bad_events: Counter = field(default_factory=Counter)  # reason -> events
    drifted_events: Counter = field(default_factory=Counter)  # kind -> events
    envelopes: Counter = field(default_factory=Counter)  # http / flat -> distinct events

    @property
    def distinct_events(self) -> int:
        return sum(self.events_by_type.values())

    def as_dict(self) -> dict:
        return {
            "records": self.records,
            "batches": self.batches,
            "redelivered_batches": self.redelivered_batches,
            "malformed_records": dict(self.malformed_records),
            "distinct_events": self.distinct_events,
            "events_by_type": dict(sorted(self.events_by_type.items())),
            "duplicate_deliveries": self.duplicate_deliveries,
            "bad_events": dict(self.bad_events),
            "drifted_events": dict(self.drifted_events),
            "envelopes": dict(self.envelopes),
        }


@dataclass
class Record:
    """One input record: a batch body (dict), or the text of a broken one."""

    body: dict | None
    broken_text: str | None = None
    received_at: int = 0  # unix seconds the receiver got it


def _weighted(rng: random.Random, choices):
    r = rng.random()
    acc = 0.0
    for *value, weight in choices:
        acc += weight
        if r < acc:
            return value[0] if len(value) == 1 else tuple(value)
    return choices[-1][0] if len(choices[-1]) == 2 else tuple(choices[-1][:-1])


class _World:
    """Campaigns, Canvases, apps, products and users, fixed by the seed."""

    def __init__(self, rng: random.Random, users: int):
        self.rng = rng
        self.app_group_id = self.uid()
        self.apps = {p: self.uid() for p, _ in PLATFORMS}
        self.campaigns = [self._campaign(i) for i in range(24)]
        self.canvases = [self._canvas(i) for i in range(8)]
        self.products = [(f"sku_{i:04d}", round(rng.uniform(2, 250), 2)) for i in range(40)]
        self.subscription_groups = {
            "email": [self.uid() for _ in range(2)],
            "sms": [self.uid() for _ in range(2)],
        }
        self.ip_pools = ("marketing", "transactional")
        self.sending_ips = tuple(f"198.51.100.{i}" for i in range(10, 14))
        self.users = [self._user(i) for i in range(users)]

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def oid(self) -> str:
        return f"{self.rng.getrandbits(96):024x}"

    def _variations(self, n: int, prefix: str) -> list[tuple[str, str]]:
        return [(self.uid(), f"{prefix} {chr(65 + i)}") for i in range(n)]

    def _campaign(self, i: int) -> dict:
        channel = _weighted(self.rng, CHANNELS)
        return {
            "campaign_id": self.uid(),
            "campaign_name": f"Campaign {i:02d} ({channel})",
            "channel": channel,
            "variations": self._variations(self.rng.choice((1, 2, 3)), "Variant"),
        }

    def _canvas(self, i: int) -> dict:
        steps = []
        for s in range(self.rng.randint(3, 5)):
            steps.append(
                {
                    "canvas_step_id": self.uid(),
                    "canvas_step_name": f"Step {s + 1}",
                    "channel": _weighted(self.rng, CHANNELS),
                    "message_variation_api_id": self.uid(),
                }
            )
        return {
            "canvas_id": self.uid(),
            "canvas_name": f"Canvas {i:02d}",
            "variations": self._variations(2, "Path"),
            "steps": steps,
            "experiment_step_id": self.uid(),
            "splits": self._variations(2, "Split"),
        }

    def _user(self, i: int) -> dict:
        rng = self.rng
        domain, provider = _weighted(rng, EMAIL_DOMAINS)
        platform = _weighted(rng, PLATFORMS)
        return {
            "external_user_id": None if rng.random() < 0.08 else f"user_{i:08d}",
            "user_id": self.oid(),
            "devices": [self.uid() for _ in range(rng.choice((1, 1, 1, 2, 2, 3)))],
            "timezone": rng.choice(TIMEZONES),
            "email": f"user{i}@{domain}",
            "mailbox_provider": provider,
            "phone": f"+1555{rng.randint(0, 9_999_999):07d}",
            "platform": platform,
            "currency": _weighted(rng, CURRENCIES),
            "carrier": rng.choice(CARRIERS),
            "sessions": 0,
            "subscribed": True,
        }


class CurrentsGenerator:
    """Yields input records (batch bodies) of simulated Currents traffic."""

    def __init__(self, settings: GeneratorSettings):
        self.settings = settings
        # The types Braze sends today: retired ones are typed for older exports, not simulated.
        self.catalog = {t: e for t, e in by_event_type().items() if not e.retired}
        self.rng = random.Random(settings.seed)
        self.world = _World(self.rng, settings.user_count)
        self.stats = GeneratorStats()
        self._pending: list[dict] = []
        self._dupes: list[tuple[int, dict]] = []  # (release after batch n, event)
        self._emitted = 0
        self._keys = {t: {f.json_key for f in e.fields} for t, e in self.catalog.items()}
        # Its own random stream, so that choosing envelopes leaves the simulation unchanged.
        self._envelope_rng = random.Random(f"{settings.seed}:envelope")

    # ---- public -------------------------------------------------------------------------
    def records(self) -> Iterator[Record]:
        """Every input record, in delivery order."""
        s = self.settings
        batch_no = 0
        for events in self._event_stream():
            self._pending.extend(events)
            while len(self._pending) >= s.batch_size:
                chunk, self._pending = self._pending[: s.batch_size], self._pending[s.batch_size :]
                yield from self._emit_batch(chunk, batch_no)
                batch_no += 1
        tail = self._pending + [e for _, e in self._dupes]
        self._dupes = []
        for i in range(0, len(tail), s.batch_size):
            yield from self._emit_batch(tail[i : i + s.batch_size], batch_no)
            batch_no += 1

    # ---- batches and record-level faults ---------------------------------------------------
    def _emit_batch(self, events: list[dict], batch_no: int) -> Iterator[Record]:
        s, rng = self.settings, self.rng
        due = [e for n, e in self._dupes if n <= batch_no]
        self._dupes = [(n, e) for n, e in self._dupes if n > batch_no]
        events = events + due
        received = max((e["time"] for e in events if isinstance(e.get("time"), int)), default=0)
        received += rng.randint(5, 120)
        if s.malformed_rate and rng.random() < s.malformed_rate:
            yield self._malformed(events, received)
            return
        body = {"events": events}
        self.stats.records += 1
        self.stats.batches += 1
        yield Record(body, received_at=received)
        if s.batch_redelivery_rate and rng.random() < s.batch_redelivery_rate:
            self.stats.records += 1
            self.stats.batches += 1
            self.stats.redelivered_batches += 1
            yield Record(body, received_at=received + 300)

    def _malformed(self, events: list[dict], received: int) -> Record:
        """A broken record. Its usable events are sent again in a later batch, as a
        Currents retry would, so the distinct-event count stays exact."""
        self.stats.records += 1
        kind = self.rng.choice(("invalid_json", "no_events", "events_not_array"))
        self.stats.malformed_records[kind] += 1
        self._dupes.extend((0, e) for e in events)
        text = json.dumps({"events": events}, separators=(",", ":"))
        if kind == "invalid_json":
            return Record(None, broken_text=text[: max(1, len(text) // 2)], received_at=received)
        if kind == "no_events":
            return Record({"evnts": events[:1]}, received_at=received)
        return Record({"events": {"not": "an array"}}, received_at=received)

    # ---- the simulation ---------------------------------------------------------------------
    def _event_stream(self) -> Iterator[list[dict]]:
        s = self.settings
        start = int(datetime(s.start.year, s.start.month, s.start.day, tzinfo=UTC).timestamp())
        yield self._finish(self._catalogue_sweep(start))
        day = 0
        while True:
            if s.events is None and day >= s.days:
                return
            day_start = start + day * 86_400
            for user in self.world.users:
                if s.events is not None and self._emitted >= s.events:
                    return
                yield self._finish(self._user_day(user, day_start))
            day += 1
            if s.events is None and day >= s.days:
                return

    def _finish(self, events: list[dict]) -> list[dict]:
        """Apply the caps, event-level faults and duplicates to a user-day's events."""
        s, rng = self.settings, self.rng
        if s.families is not None:
            events = [e for e in events if family_of(e["event_type"]) in s.families]
        if s.events is not None:
            events = events[: max(0, s.events - self._emitted)]
        out = []
        for event in events:
            if s.unknown_type_rate and rng.random() < s.unknown_type_rate:
                event = self._unknown_type(event)
            if s.drift_rate and rng.random() < s.drift_rate:
                self._drift(event)
            event = self._envelope(event)
            self.stats.events_by_type[event["event_type"]] += 1
            self._emitted += 1
            out.append(event)
            if s.duplicate_rate and rng.random() < s.duplicate_rate:
                self.stats.duplicate_deliveries += 1
                self._dupes.append((self._emitted // s.batch_size + rng.randint(1, 3), event))
            if s.bad_event_rate and rng.random() < s.bad_event_rate:
                out.append(self._bad_event(event))
        return out

    def _envelope(self, event: dict) -> dict:
        """The event in the envelope the settings ask for (it is built in the HTTP one)."""
        envelope = self.settings.envelope
        if envelope == "mixed":
            envelope = self._envelope_rng.choice(("http", "flat"))
        if "user" not in event:  # a type Braze only sends flat
            self.stats.envelopes["flat"] += 1
            return event
        self.stats.envelopes[envelope] += 1
        if envelope == "http":
            return event
        return to_flat(event, self.catalog.get(event["event_type"]))

    def _bad_event(self, template: dict) -> dict:
        kind = self.rng.choice(("missing_id", "missing_event_type", "bad_time"))
        self.stats.bad_events[kind] += 1
        event = dict(template, id=self.world.uid())
        if kind == "missing_id":
            del event["id"]
        elif kind == "missing_event_type":
            del event["event_type"]
        else:
            event["time"] = "yesterday"
        return event

    def _unknown_type(self, event: dict) -> dict:
        """Re-label a message event as a channel Braze has not announced yet."""
        event = dict(event)
        event["event_type"] = "users.messages.carrierpigeon.Send"
        return event

    def _drift(self, event: dict) -> None:
        props = event.get("properties")
        if not isinstance(props, dict):
            return
        if self.rng.random() < 0.5:
            props["experimental_field_v11"] = "new in schema v11"
            self.stats.drifted_events["new_field"] += 1
        else:
            et = self.catalog.get(event["event_type"])
            numeric = [
                f.json_key
                for f in (et.source_fields if et else ())
                if f.data_type in ("bigint", "double")
            ]
            if not numeric:
                props["experimental_field_v11"] = "new in schema v11"
                self.stats.drifted_events["new_field"] += 1
                return
            props[self.rng.choice(numeric)] = "not a number"
            self.stats.drifted_events["wrong_type"] += 1

    # -- one simulated user-day ------------------------------------------------------------
    def _user_day(self, user: dict, day_start: int) -> list[dict]:
        rng, w = self.rng, self.world
        out: list[dict] = []
        tz_hour = rng.randint(7, 21)
        t0 = day_start + tz_hour * 3600 + rng.randint(0, 3599)
        # Sessions, with custom events and purchases inside them.
        if rng.random() < 0.55:
            t = t0
            for _ in range(rng.choice((1, 1, 2, 3))):
                out += self._session(user, t)
                t += rng.randint(1800, 4 * 3600)
        # Messages from campaigns and Canvas steps.
        for _ in range(rng.choice((0, 1, 1, 1, 2))):
            t = day_start + rng.randint(0, 86_399)
            if rng.random() < 0.65:
                c = rng.choice(w.campaigns)
                vid, vname = rng.choice(c["variations"])
                ctx = {
                    "campaign_id": c["campaign_id"],
                    "campaign_name": c["campaign_name"],
                    "message_variation_id": vid,
                    "message_variation_name": vname,
                }
                if rng.random() < 0.04:
                    out.append(self._event("users.campaigns.EnrollInControl", user, t, ctx))
                    continue
                out += self._message(user, t, c["channel"], ctx)
                if out and rng.random() < 0.05:
                    conv = dict(ctx, conversion_behavior_index=0)
                    out.append(self._event("users.campaigns.Conversion", user, t + 3600, conv))
            else:
                out += self._canvas_journey(user, t)
        out += self._rare_behaviours(user, t0)
        return out

    def _session(self, user: dict, t: int) -> list[dict]:
        rng, w = self.rng, self.world
        session_id = w.uid()
        ctx = {"session_id": session_id, "app_id": w.apps[user["platform"]]}
        out = []
        if user["sessions"] == 0:
            out.append(self._event("users.behaviors.app.FirstSession", user, t, ctx))
            out.append(
                self._event("users.behaviors.InstallAttribution", user, t, {"source": "organic"})
            )
        user["sessions"] += 1
        out.append(self._event("users.behaviors.app.SessionStart", user, t, ctx))
        duration = rng.randint(20, 1800)
        for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
            name = rng.choice(CUSTOM_EVENT_NAMES)
            props = {
                "name": name,
                "custom_properties": {"screen": name, "value": rng.randint(1, 9)},
            }
            out.append(
                self._event(
                    "users.behaviors.CustomEvent", user, t + rng.randint(1, duration), props
                )
            )
        if rng.random() < 0.06:
            for _ in range(rng.choice((1, 1, 2))):
                sku, price = rng.choice(w.products)
                currency = user["currency"]
                if currency == "JPY":
                    price = float(round(price * 150))
                props = {
                    "product_id": sku,
                    "price": price,
                    "currency": currency,
                    "purchase_properties": {
                        "quantity": rng.randint(1, 3),
                        "gift": rng.random() < 0.1,
                    },
                }
                out.append(
                    self._event(
                        "users.behaviors.Purchase", user, t + rng.randint(1, duration), props
                    )
                )
        if rng.random() < 0.9:  # some sessions never report an end
            end = dict(ctx, duration=float(duration))
            out.append(self._event("users.behaviors.app.SessionEnd", user, t + duration, end))
        return out

    def _message(self, user: dict, t: int, channel: str, ctx: dict) -> list[dict]:
        """One message to one user and its funnel, as Currents reports it."""
        rng, w = self.rng, self.world
        ctx = dict(ctx, dispatch_id=w.oid(), send_id=w.uid() if rng.random() < 0.5 else None)
        ns = f"users.messages.{channel}."
        out = []

        def add(action: str, dt: int, **extra) -> None:
            out.append(self._event(ns + action, user, t + dt, dict(ctx, **extra)))

        if rng.random() < 0.02 and f"{ns}Abort" in self.catalog:
            add("Abort", 0, abort_type="liquid_abort_message", abort_log="aborted by Liquid")
            return out
        if channel == "email":
            esp = rng.choice(ESPS)
            ctx.update(esp=esp, ip_pool=rng.choice(w.ip_pools), from_domain="news.example.com")
            add("Send", 0)
            r = rng.random()
            if r < 0.015:
                add("Bounce", 5, bounce_reason="550 5.1.1 user unknown")
                return out
            if r < 0.035:
                add("SoftBounce", 5, bounce_reason="452 4.2.2 mailbox full")
                return out
            if rng.random() < 0.03:
                add("Deferral", 30, deferral_reason="421 try again later", attempt_count=1)
            add("Delivery", 60)
            if rng.random() < 0.45:
                machine = rng.random() < 0.35
                add("Open", rng.randint(120, 86_400), machine_open="true" if machine else "false")
                if rng.random() < 0.3:
                    add("Click", rng.randint(3600, 90_000), url="https://example.com/sale")
                if rng.random() < 0.01:
                    add("MarkAsSpam", rng.randint(3600, 90_000))
                if rng.random() < 0.02:
                    add("Unsubscribe", rng.randint(3600, 90_000))
            return out
        if channel == "pushnotification":
            add("Send", 0, platform=user["platform"])
            if rng.random() < 0.02:
                add("Bounce", 2, platform=user["platform"])
                return out
            if rng.random() < 0.08:
                add("Open", rng.randint(10, 7200), platform=user["platform"])
            if user["platform"] == "ios" and rng.random() < 0.05:
                add("IosForeground", 5)
            return out
        if channel == "sms":
            add("Send", 0, to_phone_number=user["phone"])
            if rng.random() < 0.03:
                add("Rejection", 2, provider_error_code="30007", carrier=user["carrier"])
                return out
            add("CarrierSend", 2, carrier=user["carrier"])
            if rng.random() < 0.04:
                add("DeliveryFailure", 10, provider_error_code="30003", carrier=user["carrier"])
                return out
            add("Delivery", 10, carrier=user["carrier"])
            if rng.random() < 0.08:
                add("ShortLinkClick", rng.randint(60, 7200), short_url="https://brz.ai/x1")
            if rng.random() < 0.02:
                add("InboundReceive", rng.randint(60, 7200), message_body="STOP")
            return out
        if channel in ("whatsapp", "rcs"):
            add("Send", 0)
            if rng.random() < 0.04:
                add("Failure" if channel == "whatsapp" else "Rejection", 3)
                return out
            add("Delivery", 3)
            if rng.random() < 0.6:
                add("Read", rng.randint(60, 7200))
                if rng.random() < 0.15:
                    add("Click", rng.randint(7200, 9000))
            return out
        if channel == "line":
            add("Send", 0)
            if rng.random() < 0.1:
                add("Click", rng.randint(60, 7200))
            return out
        if channel == "webhook":
            add("Send", 0)
            if rng.random() < 0.03:
                add("Failure", 1, http_status_code=503, is_terminal=False)
                add("Retry", 60)
            return out
        if channel == "contentcard":
            add("Send", 0, card_id=w.uid())
            if rng.random() < 0.5:
                add("Impression", rng.randint(60, 86_400))
                if rng.random() < 0.12:
                    add("Click", rng.randint(86_400, 90_000))
                elif rng.random() < 0.2:
                    add("Dismiss", rng.randint(86_400, 90_000))
            return out
        if channel in ("inappmessage", "banner", "newsfeedcard"):
            add("Impression", 0)
            if rng.random() < 0.1:
                add("Click", rng.randint(1, 30))
            elif channel == "banner" and rng.random() < 0.2:
                add("Dismiss", rng.randint(1, 30))
            return out
        if channel == "liveactivity":
            add("Send", 0, activity_id=w.uid())
            add("Outcome", 30, live_activity_event_outcome="delivered")
            return out
        raise ValueError(f"unknown channel {channel}")

    def _canvas_journey(self, user: dict, t: int) -> list[dict]:
        rng, w = self.rng, self.world
        cv = rng.choice(w.canvases)
        vid, vname = rng.choice(cv["variations"])
        base = {
            "canvas_id": cv["canvas_id"],
            "canvas_name": cv["canvas_name"],
            "canvas_variation_id": vid,
            "canvas_variation_name": vname,
        }
        out = [self._event("users.canvas.Entry", user, t, dict(base, in_control_group=False))]
        for i, step in enumerate(cv["steps"]):
            sctx = dict(
                base,
                canvas_step_id=step["canvas_step_id"],
                canvas_step_name=step["canvas_step_name"],
                canvas_step_message_variation_api_id=step["message_variation_api_id"],
            )
            ts = t + i * 86_400 // 4
            out.append(
                self._event(
                    "users.canvasstep.Progression",
                    user,
                    ts,
                    dict(sctx, is_canvas_entry=i == 0, progression_type="advance"),
                )
            )
            if i == 1 and rng.random() < 0.5:
                sid, sname = rng.choice(cv["splits"])
                split = dict(
                    sctx,
                    experiment_step_id=cv["experiment_step_id"],
                    experiment_split_id=sid,
                    experiment_split_name=sname,
                )
                out.append(self._event("users.canvas.experimentstep.SplitEntry", user, ts, split))
                if rng.random() < 0.1:
                    out.append(
                        self._event("users.canvas.experimentstep.Conversion", user, ts + 600, split)
                    )
            out += self._message(user, ts + 1, step["channel"], sctx)
            if rng.random() < 0.01:
                out.append(self._event("users.canvas.costep.Send", user, ts + 2, sctx))
            if rng.random() < 0.12:  # the user leaves the Canvas here
                kind = rng.choice(("MatchedAudience", "PerformedEvent"))
                out.append(self._event(f"users.canvas.exit.{kind}", user, ts + 5, sctx))
                break
        if rng.random() < 0.08:
            out.append(
                self._event(
                    "users.canvas.Conversion",
                    user,
                    t + 7200,
                    dict(base, conversion_behavior_index=0),
                )
            )
        return out

    def _rare_behaviours(self, user: dict, t: int) -> list[dict]:
        rng, w = self.rng, self.world
        out = []

        def maybe(p: float, event_type: str, **props) -> None:
            if rng.random() < p:
                out.append(self._event(event_type, user, t + rng.randint(0, 3600), props))

        maybe(0.04, "users.behaviors.Location", latitude=40.7 + rng.random(), longitude=-74.0)
        maybe(0.03, "users.messages.featureflag.Impression")
        maybe(0.01, "users.behaviors.pushnotification.TokenStateChange")
        maybe(0.004, "users.behaviors.liveactivity.PushToStartTokenChange")
        maybe(0.004, "users.behaviors.liveactivity.UpdateTokenChange")
        maybe(0.01, "agentconsole.AgentExecuted")
        maybe(0.005, "agentconsole.ToolInvocation")
        maybe(0.01, "users.profile.Update", update_source="SDK")
        maybe(0.002, "users.RandomBucketNumberUpdate")
        maybe(0.0005, "users.UserOrphan", orphaned_by_id=w.oid())
        maybe(0.0005, "users.UserDeleteRequest")
        maybe(0.002, "users.behaviors.Uninstall")
        if rng.random() < 0.006:
            status = "Unsubscribed" if user["subscribed"] else "Subscribed"
            user["subscribed"] = not user["subscribed"]
            out.append(
                self._event(
                    "users.behaviors.subscription.GlobalStateChange",
                    user,
                    t,
                    {
                        "channel": "email",
                        "subscription_status": status,
                        "state_change_source": "SDK",
                    },
                )
            )
        if rng.random() < 0.01:
            channel = rng.choice(("email", "sms"))
            out.append(
                self._event(
                    "users.behaviors.subscriptiongroup.StateChange",
                    user,
                    t,
                    {
                        "channel": channel,
                        "subscription_group_id": rng.choice(w.subscription_groups[channel]),
                        "subscription_status": rng.choice(("Subscribed", "Unsubscribed")),
                        "state_change_source": "REST API",
                    },
                )
            )
        return out

    def _catalogue_sweep(self, t: int) -> list[dict]:
        """One event of every catalogued type, so even a small run covers the catalogue."""
        users = self.world.users
        return [
            self._event(et, users[i % len(users)], t + i, {})
            for i, et in enumerate(sorted(self.catalog))
        ]

    # -- one event --------------------------------------------------------------------------
    def _event(self, event_type: str, user: dict, t: int, ctx: dict) -> dict:
        et = self.catalog[event_type]
        w = self.world
        device = self.rng.choice(user["devices"])
        props = {}
        for f in et.source_fields:
            key = f.json_key
            value = ctx[key] if key in ctx else self._value(key, f.data_type, user, device)
            if value is not None:
                props[key] = value
        if "app_group_id" in self._keys[event_type]:
            props["app_group_id"] = w.app_group_id
        event = {"event_type": event_type, "id": w.uid(), "time": int(t)}
        if et.flat:
            event["user_id"] = user["user_id"]
            if user["external_user_id"]:
                event["external_user_id"] = user["external_user_id"]
            if "device_id" in et.envelope:
                event["device_id"] = device
            if "timezone" in et.envelope:
                event["timezone"] = user["timezone"]
            event.update({k: v for k, v in props.items() if k in self._keys[event_type]})
            return event
        u = {"user_id": user["user_id"]}
        if user["external_user_id"]:
            u["external_user_id"] = user["external_user_id"]
        if "device_id" in et.envelope:
            u["device_id"] = device
        if "timezone" in et.envelope:
            u["timezone"] = user["timezone"]
        event["user"] = u
        event["properties"] = props
        return event

    def _value(self, key: str, data_type: str, user: dict, device: str):
        """A plausible value for a field the simulation did not set."""
        special = _SPECIAL_VALUES.get(key)
        if special is not None:
            return special(self.world, self.rng, user, device)
        w, rng = self.world, self.rng
        if key.endswith("_id"):
            # Identifiers of the message context are absent when the message is not from one.
            if key.startswith(("campaign", "canvas", "message_variation", "experiment")):
                return None
            return w.uid()
        if key.endswith("_name") and key.startswith(("campaign", "canvas", "message_variation")):
            return None
        if data_type == "bigint":
            return rng.randint(0, 1000)
        if data_type == "double":
            return round(rng.uniform(0, 100), 3)
        if data_type == "boolean":
            return rng.random() < 0.5
        if data_type == "json":
            return None
        return None if rng.random() < 0.3 else f"{key}-{rng.randint(1, 50)}"


def to_flat(event: dict, event_type=None) -> dict:
    """An event of the Custom HTTP envelope in the flat envelope of Braze's storage
    connectors: the user's ids and the properties at the top level; a field the catalogue
    gives a ``storage_key`` (custom event and purchase properties) under that key, as JSON
    text (``{}`` when there are none: the storage schemas make it a required string)."""
    storage_keys = {
        f.json_key: f.storage_key
        for f in (event_type.fields if event_type else ())
        if f.storage_key
    }
    flat = {k: v for k, v in event.items() if k not in ("user", "properties")}
    flat.update(event.get("user") or {})
    flat.update(dict.fromkeys(storage_keys.values(), "{}"))
    for key, value in (event.get("properties") or {}).items():
        if key in storage_keys:
            flat[storage_keys[key]] = json.dumps(value, separators=(",", ":"))
        else:
            flat[key] = value
    return flat


# Values of fields that depend on the user or the world: (world, rng, user, device) -> value.
_SPECIAL_VALUES = {
    "app_id": lambda w, r, u, d: w.apps[u["platform"]],
    "platform": lambda w, r, u, d: u["platform"],
    "email_address": lambda w, r, u, d: u["email"],
    "channel_identifier": lambda w, r, u, d: u["email"],
    "mailbox_provider": lambda w, r, u, d: u["mailbox_provider"],
    "to_phone_number": lambda w, r, u, d: u["phone"],
    "user_phone_number": lambda w, r, u, d: u["phone"],
    "phone_number": lambda w, r, u, d: u["phone"],
    "carrier": lambda w, r, u, d: u["carrier"],
    "push_token_device_id": lambda w, r, u, d: d,
    "timezone": lambda w, r, u, d: u["timezone"],
    "currency": lambda w, r, u, d: u["currency"],
    "price": lambda w, r, u, d: round(r.uniform(1, 100), 2),
    "product_id": lambda w, r, u, d: r.choice(w.products)[0],
    "name": lambda w, r, u, d: r.choice(CUSTOM_EVENT_NAMES),
    "device_model": lambda w, r, u, d: {"ios": "iPhone15,2", "android": "Pixel 8"}.get(
        u["platform"]
    ),
    "os_version": lambda w, r, u, d: {"ios": "17.6.1", "android": "14"}.get(u["platform"]),
    "machine_open": lambda w, r, u, d: "false",
    "duration": lambda w, r, u, d: r.randint(1, 600),
    "subscription_status": lambda w, r, u, d: "Subscribed",
    "browser": lambda w, r, u, d: "Chrome",
    "user_agent": lambda w, r, u, d: "Mozilla/5.0",
    "device_class": lambda w, r, u, d: "mobile",
    "sending_ip": lambda w, r, u, d: r.choice(w.sending_ips),
    "recipient_domain": lambda w, r, u, d: u["email"].split("@", 1)[1],
}
