"""Command line and environment, parsed once when the exporter starts (never at import time)."""

from __future__ import annotations

import argparse
import importlib.util
import ipaddress
import os
import sys
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests.utils

from braze_currents.config import PROJECT_ROOT, duckdb_path
from braze_currents.exporter.modes import (
    Mode,
    RecordType,
    export_label,
    parse_mode,
    parse_record_type,
)
from braze_currents.warehouse import SETTINGS as WAREHOUSE_SETTINGS

ENDPOINT_ENV = "BRAZE_REST_ENDPOINT"
API_KEY_ENV = "BRAZE_API_KEY"
TARGET_PATH_ENV = "DBT_TARGET_PATH"
MEMORY_LIMIT_ENV = WAREHOUSE_SETTINGS["memory_limit"][0]  # the setting the loader and dbt read
# Row-group merges at checkpoints: as the loader and dbt have them (off), so that the ledger's
# checkpoints never rewrite the warehouse's raw batches.
VACUUM_ENV, DEFAULT_VACUUM_TASKS = WAREHOUSE_SETTINGS["max_vacuum_tasks"]
DEFAULT_MEMORY_LIMIT = "2GB"
DEFAULT_DRY_RUN_DIR = Path("out") / "export_to_braze"
PRIORITIZATIONS = ("identified", "unidentified", "most_recently_updated")


EXIT_CODES_HELP = """exit codes:
  0  every row delivered, already delivered, unchanged, or skipped as invalid under
     --skip-on-invalid-records
  1  the job could not run: a flag, the environment, the manifest or the warehouse is wrong,
     or Braze's TLS certificate could not be verified
  2  invalid rows without --skip-on-invalid-records: nothing was sent
  3  some rows were not delivered: rejected by Braze, retries exhausted, the key refused,
     or the run interrupted (the report lists every such row)

docs/exporter.md has every mode, label and option."""


class ConfigError(Exception):
    """The job cannot start: a flag, an environment variable or the model is wrong."""


@dataclass(frozen=True)
class BatchSettings:
    track_objects: int = 75  # objects per /users/track request, all arrays together
    new_alias: int = 50
    identify: int = 50
    delete: int = 50
    subscription: int = 50  # users per /v2/subscription/status/set request
    max_request_bytes: int = 4_000_000  # Braze answers 413 above 4 MB; stay under it


BULK_OBJECTS = 1000  # /users/track/bulk: up to 1,000 users ...
BULK_MAX_REQUEST_BYTES = 2_000_000  # ... and 2 MB a request
BULK_PATH = "/users/track/bulk"


@dataclass(frozen=True)
class RateSettings:
    track_requests: int = 3000  # per track_window seconds
    track_window: float = 3.0
    users_requests: int = 20000  # shared by alias/new, identify, delete; per users_window
    users_window: float = 60.0
    subscription_requests: int = 5000  # /subscription/status/set and its v2, per minute
    subscription_window: float = 60.0
    headroom: float = 0.95  # fraction of the published limit the client aims at


@dataclass(frozen=True)
class HttpSettings:
    concurrency: int | None = None  # None: enough to reach the rate limit at `latency_target`
    latency_target: float = 0.2  # seconds per request the default concurrency is sized for
    max_concurrency: int = 256
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_retries: int = 8  # 5xx, timeouts, dropped connections
    max_rate_limited_retries: int = 50  # 429 answers for one request
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    max_wait: float = 300.0  # longest single wait a 429's headers may ask for
    proxy: str | None = None  # the proxy URL for the endpoint, resolved once (check_proxy)
    ca_bundle: str | None = None  # CA file or directory TLS is verified against; None: certifi's


@dataclass(frozen=True)
class Settings:
    model: str
    mode: Mode
    record_type: RecordType | None
    database: Path
    target_path: Path
    endpoint: str | None
    api_key: str | None = field(repr=False)
    pre_formatted: frozenset[str] = frozenset()
    key_columns: tuple[str, ...] = ()
    skip_invalid: bool = False
    dry_run: bool = False
    dry_run_output: Path | None = None
    delta: bool = False
    ignore_ledger: bool = False
    report_path: Path | None = None
    track_bulk: bool = False  # user_track through /users/track/bulk (backfills)
    delete_prioritization: tuple[str, ...] = ()
    identify_prioritization: tuple[str, ...] = ("unidentified", "most_recently_updated")
    chunk_rows: int = 10_000
    progress: str = "auto"
    log_interval: float = 10.0
    spool_dir: Path | None = None
    memory_limit: str = "2GB"
    max_vacuum_tasks: str = DEFAULT_VACUUM_TASKS
    batch: BatchSettings = BatchSettings()
    rate: RateSettings = RateSettings()
    http: HttpSettings = HttpSettings()
    ledger_path: Path | None = None  # the ledger's own DuckDB file; None: in the warehouse
    require_ledger: bool = False  # stop (exit 1) when the ledger has no history of the export
    first_run: bool = False  # the export's first run: stop when the ledger has its history
    lock_timeout: float = 0.0  # seconds to wait for another export holding the ledger's lock

    @property
    def ledger_file(self) -> Path:
        """The file the ledger lives in: ``--ledger``, else the warehouse."""
        return self.ledger_path or self.database

    @property
    def label(self) -> str:
        return export_label(self.mode, self.record_type)

    def concurrency_for(self, requests_per_second: float) -> int:
        if self.http.concurrency:
            return self.http.concurrency
        wanted = int(requests_per_second * self.http.latency_target + 0.999)
        return max(1, min(self.http.max_concurrency, wanted))

    @property
    def prioritization(self) -> tuple[str, ...]:
        """The ``prioritization`` list of this mode's email and phone rows."""
        return (
            self.identify_prioritization
            if self.mode is Mode.IDENTIFY
            else self.delete_prioritization
        )

    @property
    def is_user_attributes(self) -> bool:
        return self.mode is Mode.TRACK and self.record_type is RecordType.USER_ATTRIBUTES


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _env_value(env: Mapping[str, str], name: str) -> tuple[str, str] | None:
    """A variable as urllib (and so requests and curl) reads proxies: the lower-case name wins
    when it is set at all, so an empty ``https_proxy`` switches an ``HTTPS_PROXY`` off."""
    for key in (name.lower(), name.upper()):
        if key in env:
            value = env[key].strip()
            return (key, value) if value else None
    return None


PROXY_SCHEMES = ("http", "https", "socks4", "socks4a", "socks5", "socks5h")


def check_proxy(env: Mapping[str, str], endpoint: str | None) -> str | None:
    """The proxy requests to ``endpoint`` go through, by the rules ``requests`` applies:
    ``HTTPS_PROXY`` (``HTTP_PROXY`` for a plain http endpoint), else ``ALL_PROXY``, unless
    ``NO_PROXY`` exempts the host (names, domain suffixes, IP addresses and CIDR blocks, read
    by ``requests.utils.should_bypass_proxies``); never for a loopback host (a proxy cannot
    reach this machine's). ConfigError when the value is not a proxy URL with a host and a
    port number, or names SOCKS while PySocks is missing."""
    if endpoint is None:
        return None
    parts = urlsplit(endpoint)
    host = parts.hostname or ""
    found = _env_value(env, f"{parts.scheme}_proxy") or _env_value(env, "all_proxy")
    if found is None or is_loopback_host(host):
        return None
    no_proxy = _env_value(env, "no_proxy")
    if no_proxy and requests.utils.should_bypass_proxies(endpoint, no_proxy=no_proxy[1]):
        return None
    name, value = found
    url = value if "://" in value else "http://" + value
    proxy = urlsplit(url)
    try:
        port = proxy.port
    except ValueError:
        port = -1
    if proxy.scheme.lower() not in PROXY_SCHEMES or not proxy.hostname or port == -1:
        raise ConfigError(
            f"{name} must be a proxy URL such as http://proxy.example.com:3128 "
            f"(schemes {', '.join(PROXY_SCHEMES)}; user:password@ allowed); got a "
            f"{proxy.scheme or 'schemeless'} URL"
            + ("" if proxy.hostname else " without a host")
            + (" with a port that is not a number" if port == -1 else "")
        )
    if proxy.scheme.lower().startswith("socks") and importlib.util.find_spec("socks") is None:
        raise ConfigError(f"{name} names a SOCKS proxy: install PySocks (requirements.txt)")
    return url


CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR")


def check_ca_bundle(env: Mapping[str, str]) -> str | None:
    """The CA certificates to verify Braze's TLS certificate against: the first of
    ``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE`` (as requests reads them), ``SSL_CERT_FILE``
    and ``SSL_CERT_DIR`` (as OpenSSL does) that is set: a file of certificates or a
    directory of hashed ones. None: certifi's bundle."""
    for name in CA_VARIABLES:
        value = (env.get(name) or "").strip()
        if value:
            path = Path(value).expanduser()
            if not (path.is_file() or path.is_dir()):
                raise ConfigError(f"{name} names no readable file or directory: {value}")
            return str(path)
    return None


def check_prioritization(values: Sequence[str]) -> str | None:
    """Braze's ``prioritization`` list: each value once, and only one of ``identified`` and
    ``unidentified`` (Braze refuses the list otherwise)."""
    if len(set(values)) != len(values):
        return "a value is given more than once"
    if {"identified", "unidentified"} <= set(values):
        return "only one of identified and unidentified may be given"
    return None


def check_api_key(raw: str | None) -> str | None:
    """The key without surrounding whitespace (file-backed secrets often end in a newline);
    ConfigError, never showing the key, when whitespace or a control character is left inside
    it: no HTTP header can carry it."""
    key = (raw or "").strip()
    if not key:
        return None
    if any(c.isspace() or unicodedata.category(c).startswith("C") for c in key):
        raise ConfigError(
            f"{API_KEY_ENV} holds whitespace or a control character inside it (not shown); "
            "a Braze REST API key has none: check how the secret is stored"
        )
    return key


def check_endpoint(url: str) -> str:
    """The REST endpoint without a trailing slash: https, or plain http to a loopback host."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError(
            f"{ENDPOINT_ENV} must be an https URL such as https://rest.iad-01.braze.com"
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ConfigError(f"{ENDPOINT_ENV} must hold no credentials, query or fragment")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ConfigError(
            f"{ENDPOINT_ENV} uses plain http to {parts.hostname}: refused, the API key would "
            "travel unencrypted (http is allowed only to a loopback host such as 127.0.0.1)"
        )
    return url.strip().rstrip("/")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # exit code 2 means "invalid rows": never use it here
        raise ConfigError(f"{self.prog}: {message}")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be above 0")
    return value


def _non_negative_float(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _column_list(values: Sequence[str] | None) -> tuple[str, ...]:
    out: list[str] = []
    for value in values or ():
        out.extend(c.strip() for c in value.split(",") if c.strip())
    return tuple(dict.fromkeys(out))


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="export_to_braze.py",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EXIT_CODES_HELP,
        description="Export the rows of a dbt model to Braze's REST API "
        "(Treasure Data's Braze export modes). The REST endpoint comes from "
        f"{ENDPOINT_ENV}, the API key from {API_KEY_ENV} only.",
    )
    job = p.add_argument_group("job")
    job.add_argument("--model", required=True, help="dbt model name (resolved via manifest.json)")
    job.add_argument(
        "--mode",
        required=True,
        help="user_new_alias, user_identify, user_track, user_delete, user_subscription_status "
        '(or Treasure Data\'s labels: "User - Track" etc.)',
    )
    job.add_argument(
        "--track-record-type", help="with user_track: custom_events, purchases, user_attributes"
    )
    job.add_argument(
        "--pre-formatted-fields",
        action="append",
        metavar="COL[,COL...]",
        help="columns whose text is JSON, sent as the structure it holds",
    )
    job.add_argument(
        "--skip-on-invalid-records",
        action="store_true",
        help="skip and report invalid rows instead of stopping before any request",
    )
    job.add_argument("--dry-run", action="store_true", help="build every request, send none")
    job.add_argument(
        "--dry-run-output",
        metavar="PATH",
        help=f"NDJSON file of the requests a dry run builds (default {DEFAULT_DRY_RUN_DIR}/"
        "<model>.<mode>.requests.ndjson under the project root)",
    )
    job.add_argument(
        "--delta",
        action="store_true",
        help="user_attributes: send only attributes changed since the last acknowledged export",
    )
    job.add_argument(
        "--track-bulk",
        action="store_true",
        help=f"user_track through {BULK_PATH} for backfills: up to {BULK_OBJECTS} objects and "
        "2 MB a request, its own users.track.bulk permission, the same ledger",
    )
    job.add_argument("--report", metavar="PATH", help="write a JSON report here")
    job.add_argument("--database", metavar="PATH", help="DuckDB file (else CURRENTS_DUCKDB_PATH)")
    job.add_argument(
        "--key-columns",
        action="append",
        metavar="COL[,COL...]",
        help="columns that identify a row for the delivery ledger (default: the whole row)",
    )
    job.add_argument(
        "--ignore-ledger",
        action="store_true",
        help="send rows even if Braze acknowledged them before (acknowledgements still recorded)",
    )
    job.add_argument(
        "--ledger",
        metavar="PATH",
        help="keep the delivery ledger in this DuckDB file of its own (default: in the warehouse)",
    )
    job.add_argument(
        "--require-ledger",
        action="store_true",
        help="stop before sending (exit 1) when the ledger has no history of this model, mode "
        "and endpoint: a lost ledger never turns into a full resend",
    )
    job.add_argument(
        "--first-run",
        action="store_true",
        help="the first export of this model, mode and endpoint: runs without ledger history "
        "(also with --require-ledger), and stops when the ledger has some",
    )
    job.add_argument(
        "--lock-timeout",
        type=_non_negative_float,
        default=0.0,
        metavar="SECONDS",
        help="wait this long for another export using the same ledger, then stop (default 0: "
        "stop at once)",
    )
    job.add_argument(
        "--delete-prioritization",
        metavar="P[,P...]",
        help="user_delete by email or phone: Braze's prioritization list, e.g. "
        "identified,most_recently_updated (required for such rows)",
    )

    job.add_argument(
        "--identify-prioritization",
        metavar="P[,P...]",
        default="unidentified,most_recently_updated",
        help="user_identify by email or phone: Braze's prioritization list, which of several "
        "profiles with that email or phone is identified (default %(default)s)",
    )

    limits = p.add_argument_group("limits (defaults: Braze's published limits)")
    b, r, h = BatchSettings(), RateSettings(), HttpSettings()
    limits.add_argument(
        "--track-batch-size",
        type=_positive_int,
        default=b.track_objects,
        help="objects per /users/track request, all arrays together (default %(default)s)",
    )
    limits.add_argument(
        "--alias-batch-size",
        type=_positive_int,
        default=b.new_alias,
        help="aliases per /users/alias/new request (default %(default)s)",
    )
    limits.add_argument(
        "--identify-batch-size",
        type=_positive_int,
        default=b.identify,
        help="entries per /users/identify request (default %(default)s)",
    )
    limits.add_argument(
        "--delete-batch-size",
        type=_positive_int,
        default=b.delete,
        help="identifiers per /users/delete request (default %(default)s)",
    )
    limits.add_argument(
        "--subscription-batch-size",
        type=_positive_int,
        default=b.subscription,
        help="users per /v2/subscription/status/set request (default %(default)s)",
    )
    limits.add_argument(
        "--max-request-bytes",
        type=_positive_int,
        default=b.max_request_bytes,
        help="largest request body sent; Braze answers 413 over 4 MB (default %(default)s)",
    )
    limits.add_argument(
        "--track-rate-limit",
        type=_positive_int,
        default=r.track_requests,
        help="/users/track requests allowed per window (default %(default)s)",
    )
    limits.add_argument(
        "--track-rate-window",
        type=_positive_float,
        default=r.track_window,
        help="seconds (default %(default)s)",
    )
    limits.add_argument(
        "--users-rate-limit",
        type=_positive_int,
        default=r.users_requests,
        help="requests per window shared by alias/new, identify, delete (default %(default)s)",
    )
    limits.add_argument(
        "--users-rate-window",
        type=_positive_float,
        default=r.users_window,
        help="seconds (default %(default)s)",
    )
    limits.add_argument(
        "--subscription-rate-limit",
        type=_positive_int,
        default=r.subscription_requests,
        help="/v2/subscription/status/set requests per minute (default %(default)s)",
    )
    limits.add_argument(
        "--rate-headroom",
        type=_positive_float,
        default=r.headroom,
        help="share of the limit the client aims at (default %(default)s)",
    )

    http = p.add_argument_group("http")
    http.add_argument(
        "--concurrency",
        type=_positive_int,
        default=None,
        help="requests in flight (default: enough to reach the rate limit at 200 ms a request)",
    )
    http.add_argument(
        "--connect-timeout",
        type=_positive_float,
        default=h.connect_timeout,
        help="seconds (default %(default)s)",
    )
    http.add_argument(
        "--read-timeout",
        type=_positive_float,
        default=h.read_timeout,
        help="seconds (default %(default)s)",
    )
    http.add_argument(
        "--max-retries",
        type=int,
        default=h.max_retries,
        help="retries of a batch on 5xx, timeouts, dropped connections (default %(default)s)",
    )
    http.add_argument(
        "--max-rate-limited-retries",
        type=int,
        default=h.max_rate_limited_retries,
        help="retries of a batch answered 429 (default %(default)s)",
    )
    http.add_argument(
        "--backoff-base",
        type=_non_negative_float,
        default=h.backoff_base,
        help="seconds; exponential backoff with jitter starts here (default %(default)s)",
    )
    http.add_argument(
        "--backoff-max",
        type=_non_negative_float,
        default=h.backoff_max,
        help="seconds; longest backoff (default %(default)s)",
    )
    http.add_argument(
        "--max-wait",
        type=_non_negative_float,
        default=h.max_wait,
        help="seconds; longest wait a 429's headers may impose (default %(default)s)",
    )

    run = p.add_argument_group("run")
    run.add_argument("--chunk-rows", type=_positive_int, default=10_000, help="rows per fetch")
    run.add_argument("--progress", choices=("auto", "bar", "log", "off"), default="auto")
    run.add_argument("--log-interval", type=_positive_float, default=10.0, help="seconds")
    run.add_argument(
        "--spool-dir",
        metavar="DIR",
        help="temporary files: the rejects list, DuckDB's spill files (default: system temp)",
    )
    run.add_argument(
        "--memory-limit",
        help=f"DuckDB's memory limit; beyond it, it spills to disk (default: "
        f"{MEMORY_LIMIT_ENV}, else {DEFAULT_MEMORY_LIMIT})",
    )
    return p


def parse_settings(
    argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Settings from the command line and the environment; ConfigError when they do not fit."""
    env = os.environ if environ is None else environ
    argv = list(sys.argv[1:] if argv is None else argv)
    for arg in argv:
        if arg.split("=", 1)[0] in ("--api-key", "--key", "--braze-api-key"):
            raise ConfigError(f"the API key is read from {API_KEY_ENV} only, never from a flag")
    a = build_parser().parse_args(argv)

    try:
        mode = parse_mode(a.mode)
        record_type = parse_record_type(a.track_record_type) if a.track_record_type else None
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if mode is Mode.TRACK and record_type is None:
        raise ConfigError("--mode user_track needs --track-record-type")
    if mode is not Mode.TRACK and record_type is not None:
        raise ConfigError("--track-record-type goes with --mode user_track only")
    if a.track_bulk and mode is not Mode.TRACK:
        raise ConfigError("--track-bulk goes with --mode user_track only")
    if a.delta and record_type is not RecordType.USER_ATTRIBUTES:
        raise ConfigError("--delta works with --track-record-type user_attributes only")

    if a.require_ledger and a.ignore_ledger:
        raise ConfigError("--require-ledger and --ignore-ledger contradict each other")

    prioritization = _column_list([a.delete_prioritization] if a.delete_prioritization else [])
    bad = [p for p in prioritization if p not in PRIORITIZATIONS]
    if bad:
        raise ConfigError(f"--delete-prioritization: unknown value(s) {bad}; use {PRIORITIZATIONS}")
    prioritization_error = check_prioritization(prioritization)
    if prioritization_error:
        raise ConfigError(f"--delete-prioritization: {prioritization_error}")
    identify_prioritization = _column_list([a.identify_prioritization])
    bad = [p for p in identify_prioritization if p not in PRIORITIZATIONS]
    prioritization_error = check_prioritization(identify_prioritization) or (
        f"unknown value(s) {bad}; use {PRIORITIZATIONS}"
        if bad or not identify_prioritization
        else None
    )
    if prioritization_error:
        raise ConfigError(f"--identify-prioritization: {prioritization_error}")

    api_key = check_api_key(env.get(API_KEY_ENV))
    endpoint_raw = env.get(ENDPOINT_ENV) or None
    endpoint = check_endpoint(endpoint_raw) if endpoint_raw else None
    if not a.dry_run:
        missing = [
            name for name, value in ((ENDPOINT_ENV, endpoint), (API_KEY_ENV, api_key)) if not value
        ]
        if missing:
            raise ConfigError(
                " and ".join(missing)
                + (" is" if len(missing) == 1 else " are")
                + " not set"
                + (" (e.g. https://rest.iad-01.braze.com)" if endpoint is None else "")
            )

    target = env.get(TARGET_PATH_ENV) or "target"
    target_path = Path(target).expanduser()
    if not target_path.is_absolute():
        target_path = (Path.cwd() / target_path).resolve()

    safe_model = "".join(c if c.isalnum() or c in "-_." else "_" for c in a.model)
    mode_part = export_label(mode, record_type).replace(":", ".")
    dry_run_output = (
        Path(a.dry_run_output).expanduser()
        if a.dry_run_output
        else PROJECT_ROOT / DEFAULT_DRY_RUN_DIR / f"{safe_model}.{mode_part}.requests.ndjson"
    )

    database = duckdb_path(a.database, dict(env))
    ledger_path = Path(a.ledger).expanduser().resolve() if a.ledger else None
    return Settings(
        model=a.model,
        mode=mode,
        record_type=record_type,
        database=database,
        target_path=target_path,
        endpoint=endpoint,
        api_key=api_key,
        pre_formatted=frozenset(_column_list(a.pre_formatted_fields)),
        key_columns=_column_list(a.key_columns),
        skip_invalid=a.skip_on_invalid_records,
        dry_run=a.dry_run,
        dry_run_output=dry_run_output,
        delta=a.delta,
        ignore_ledger=a.ignore_ledger,
        report_path=Path(a.report).expanduser() if a.report else None,
        track_bulk=a.track_bulk,
        delete_prioritization=prioritization,
        identify_prioritization=identify_prioritization,
        chunk_rows=a.chunk_rows,
        progress=a.progress,
        log_interval=a.log_interval,
        spool_dir=Path(a.spool_dir).expanduser() if a.spool_dir else None,
        memory_limit=a.memory_limit or env.get(MEMORY_LIMIT_ENV) or DEFAULT_MEMORY_LIMIT,
        max_vacuum_tasks=env.get(VACUUM_ENV) or DEFAULT_VACUUM_TASKS,
        batch=BatchSettings(
            track_objects=(
                max(a.track_batch_size, BULK_OBJECTS)
                if a.track_bulk and a.track_batch_size == BatchSettings.track_objects
                else a.track_batch_size
            ),
            new_alias=a.alias_batch_size,
            identify=a.identify_batch_size,
            delete=a.delete_batch_size,
            subscription=a.subscription_batch_size,
            max_request_bytes=(
                min(a.max_request_bytes, BULK_MAX_REQUEST_BYTES)
                if a.track_bulk
                else a.max_request_bytes
            ),
        ),
        rate=RateSettings(
            track_requests=a.track_rate_limit,
            track_window=a.track_rate_window,
            users_requests=a.users_rate_limit,
            users_window=a.users_rate_window,
            subscription_requests=a.subscription_rate_limit,
            headroom=a.rate_headroom,
        ),
        http=HttpSettings(
            concurrency=a.concurrency,
            connect_timeout=a.connect_timeout,
            read_timeout=a.read_timeout,
            max_retries=max(0, a.max_retries),
            max_rate_limited_retries=max(0, a.max_rate_limited_retries),
            backoff_base=a.backoff_base,
            backoff_max=a.backoff_max,
            max_wait=a.max_wait,
            proxy=check_proxy(env, endpoint),
            ca_bundle=check_ca_bundle(env) if endpoint else None,
        ),
        ledger_path=None if ledger_path == database else ledger_path,
        require_ledger=a.require_ledger,
        first_run=a.first_run,
        lock_timeout=a.lock_timeout,
    )
