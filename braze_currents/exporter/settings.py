"""Command line and environment, parsed once when the exporter starts (never at import time)."""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import proxy_bypass_environment

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


class ConfigError(Exception):
    """The job cannot start: a flag, an environment variable or the model is wrong."""


@dataclass(frozen=True)
class BatchSettings:
    track_objects: int = 75  # objects per /users/track request, all arrays together
    new_alias: int = 50
    identify: int = 50
    delete: int = 50
    max_request_bytes: int = 4_000_000  # Braze answers 413 above 4 MB; stay under it


@dataclass(frozen=True)
class RateSettings:
    track_requests: int = 3000  # per track_window seconds
    track_window: float = 3.0
    users_requests: int = 20000  # shared by alias/new, identify, delete; per users_window
    users_window: float = 60.0
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
    proxy: str | None = None  # http://[user:password@]host:port of a CONNECT proxy (check_proxy)
    ca_bundle: str | None = None  # CA certificates TLS is verified against; None: certifi's


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
    delete_prioritization: tuple[str, ...] = ()
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
    """A variable the way curl and Python read proxies: lower case first, then upper case."""
    for key in (name.lower(), name.upper()):
        if env.get(key):
            return key, env[key]
    return None


def check_proxy(env: Mapping[str, str], endpoint: str | None) -> str | None:
    """The proxy requests to ``endpoint`` go through: HTTPS_PROXY (or ALL_PROXY) unless
    NO_PROXY exempts the host, and never for a loopback host (a proxy cannot reach this
    machine's). ConfigError when the variable is not an http:// proxy with a host and port
    number: the exporter opens a CONNECT tunnel through it and speaks TLS to Braze inside."""
    if endpoint is None:
        return None
    host = urlsplit(endpoint).hostname or ""
    found = _env_value(env, "https_proxy") or _env_value(env, "all_proxy")
    if found is None or is_loopback_host(host):
        return None
    no_proxy = _env_value(env, "no_proxy")
    if no_proxy and proxy_bypass_environment(host, {"no": no_proxy[1]}):
        return None
    name, value = found
    url = value.strip() if "://" in value else "http://" + value.strip()
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme != "http" or not parts.hostname or port == -1:
        raise ConfigError(
            f"{name} must be an http:// proxy such as http://proxy.example.com:3128 "
            f"(user:password@ allowed); got a {parts.scheme or 'schemeless'} URL"
            + ("" if parts.hostname else " without a host")
            + (" with a port that is not a number" if port == -1 else "")
        )
    return url


def check_ca_bundle(env: Mapping[str, str]) -> str | None:
    """REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE, as the requests library reads them: a file of CA
    certificates to verify Braze's TLS certificate against (None: certifi's bundle)."""
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        value = env.get(name)
        if value:
            if not Path(value).expanduser().is_file():
                raise ConfigError(f"{name} names no readable file: {value}")
            return str(Path(value).expanduser())
    return None


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
        description="Export the rows of a dbt model to Braze's REST API "
        "(Treasure Data's Braze export modes). The REST endpoint comes from "
        f"{ENDPOINT_ENV}, the API key from {API_KEY_ENV} only.",
    )
    job = p.add_argument_group("job")
    job.add_argument("--model", required=True, help="dbt model name (resolved via manifest.json)")
    job.add_argument(
        "--mode",
        required=True,
        help='user_new_alias, user_identify, user_track, user_delete (or "User - Track" etc.)',
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
    if a.delta and record_type is not RecordType.USER_ATTRIBUTES:
        raise ConfigError("--delta works with --track-record-type user_attributes only")

    if a.require_ledger and a.ignore_ledger:
        raise ConfigError("--require-ledger and --ignore-ledger contradict each other")

    prioritization = _column_list([a.delete_prioritization] if a.delete_prioritization else [])
    bad = [p for p in prioritization if p not in PRIORITIZATIONS]
    if bad:
        raise ConfigError(f"--delete-prioritization: unknown value(s) {bad}; use {PRIORITIZATIONS}")

    api_key = env.get(API_KEY_ENV) or None
    endpoint_raw = env.get(ENDPOINT_ENV) or None
    endpoint = check_endpoint(endpoint_raw) if endpoint_raw else None
    if not a.dry_run:
        if endpoint is None:
            raise ConfigError(f"{ENDPOINT_ENV} is not set (e.g. https://rest.iad-01.braze.com)")
        if api_key is None:
            raise ConfigError(f"{API_KEY_ENV} is not set")

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
        delete_prioritization=prioritization,
        chunk_rows=a.chunk_rows,
        progress=a.progress,
        log_interval=a.log_interval,
        spool_dir=Path(a.spool_dir).expanduser() if a.spool_dir else None,
        memory_limit=a.memory_limit or env.get(MEMORY_LIMIT_ENV) or DEFAULT_MEMORY_LIMIT,
        max_vacuum_tasks=env.get(VACUUM_ENV) or DEFAULT_VACUUM_TASKS,
        batch=BatchSettings(
            track_objects=a.track_batch_size,
            new_alias=a.alias_batch_size,
            identify=a.identify_batch_size,
            delete=a.delete_batch_size,
            max_request_bytes=a.max_request_bytes,
        ),
        rate=RateSettings(
            track_requests=a.track_rate_limit,
            track_window=a.track_rate_window,
            users_requests=a.users_rate_limit,
            users_window=a.users_rate_window,
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
