"""``python -m braze_currents.devtools.emulator``: a local Braze REST emulator until stopped."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from collections.abc import Sequence

from braze_currents.devtools.emulator.server import EmulatorConfig, Faults, make_server

KEY_ENV = "BRAZE_EMULATOR_API_KEY"


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="braze_emulator.py",
        description="A local emulator of Braze's /users/track, /users/identify, "
        "/users/alias/new and /users/delete. The API key it accepts comes from "
        f"{KEY_ENV} (a random one is made and printed when unset).",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=4010, help="0 picks a free port")
    p.add_argument("--latency", type=float, default=0.0, help="seconds added to each answer")
    p.add_argument("--latency-jitter", type=float, default=0.0)
    p.add_argument("--track-rate-limit", type=int, default=3000)
    p.add_argument("--track-rate-window", type=float, default=3.0)
    p.add_argument("--users-rate-limit", type=int, default=20000)
    p.add_argument("--users-rate-window", type=float, default=60.0)
    p.add_argument("--track-max-objects", type=int, default=75)
    p.add_argument("--error-rate", type=float, default=0.0, help="share of answers that are 503")
    p.add_argument("--rate-limit-rate", type=float, default=0.0, help="share answered 429")
    p.add_argument("--drop-rate", type=float, default=0.0, help="share of dropped connections")
    p.add_argument("--seed", type=int)
    p.add_argument("--announce-json", action="store_true", help="print {url} as JSON first")
    a = p.parse_args(argv)

    key = os.environ.get(KEY_ENV)
    generated = not key
    key = key or secrets.token_urlsafe(24)
    config = EmulatorConfig(
        api_key=key,
        latency=a.latency,
        latency_jitter=a.latency_jitter,
        track_rate=(a.track_rate_limit, a.track_rate_window),
        users_rate=(a.users_rate_limit, a.users_rate_window),
        track_max_objects=a.track_max_objects,
        faults=Faults(
            error_rate=a.error_rate,
            rate_limit_rate=a.rate_limit_rate,
            drop_rate=a.drop_rate,
            seed=a.seed,
        ),
    )
    server = make_server(config, a.host, a.port)
    host, port = server.server_address[:2]
    url = f"http://{host}:{port}"
    if a.announce_json:
        print(json.dumps({"url": url}), flush=True)
    else:
        print(f"Braze emulator on {url}", flush=True)
        if generated:  # a throwaway key for a local fake, shown so a user can call it
            print(f"BRAZE_REST_ENDPOINT={url} BRAZE_API_KEY={key}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
