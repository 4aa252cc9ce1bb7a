"""`edge delivery status|retry|run`: what has reached the commune's storage, what waits and why,
and a nudge to try again now (after fixing a password or plugging the USB disk in)."""

from __future__ import annotations

import argparse
import datetime as dt
import json

from edge import config
from edge.delivery import engine
from edge.delivery.store import Store
from edge.errors import ConfigError, StateConflict
from edge.pipeline.lock import file_lock
from edge.pipeline.queue import Queue
from edge.pipeline.storage import Storage

REASONS = {"disk": "its disk is not plugged in (not mounted)",
           "clock": "waiting for network time (the clock is not synchronised, its window "
                    "cannot be trusted)",
           "window": "outside its time window", "network": "not on an allowed network",
           "budget": "today's byte budget is used up", "": "sending"}


def add_arguments(sp: argparse.ArgumentParser) -> None:
    actions = sp.add_subparsers(dest="action", required=True, metavar="ACTION")
    status = actions.add_parser("status", help="each target: delivered, waiting (why), failing "
                                "(the reason); exit 1 if one is failing")
    status.add_argument("--json", action="store_true")
    retry = actions.add_parser("retry", help="forget the backoff: try again now")
    retry.add_argument("target", nargs="?", help="one target's name (default: all)")
    actions.add_parser("run", help="one delivery pass now, here (when the service is stopped: "
                       "e.g. to a USB disk)")


def run(cfg: config.Config, storage: Storage, queue: Queue, args: argparse.Namespace) -> int:
    if not cfg.delivery:
        raise ConfigError("no [[delivery]] target in the config; see config/edge.example.toml")
    with Store(storage.root) as store:
        if args.action == "status":
            return _status(cfg, store, args.json)
        if args.action == "retry":
            if args.target and args.target not in {t.name for t in cfg.delivery}:
                raise ConfigError(f"no delivery target {args.target!r} (configured: "
                                  f"{', '.join(t.name for t in cfg.delivery)})")
            n = store.retry_now(args.target)
            print(f"{n} file(s) will be tried again at the next pass")
            return 0
        return _run(cfg, storage, queue, store)


def _run(cfg: config.Config, storage: Storage, queue: Queue, store: Store) -> int:
    with file_lock(storage.locks / "delivery.lock", wait=0) as held:
        if not held:
            raise StateConflict("the service is delivering now; `edge delivery retry` makes it "
                                "try again at once")
        deliverer = engine.Deliverer(cfg)
        try:
            deliverer.replan(queue, store, force=True)
            for t in cfg.delivery:
                store.retry_now(t.name)
                n = deliverer.run_target(t, store)
                print(f"{t.name}: {n} file(s) delivered")
        finally:
            deliverer.close()
    return _status(cfg, store, False)


def _status(cfg: config.Config, store: Store, as_json: bool) -> int:
    rows = [engine.target_status(t, store) for t in cfg.delivery]
    if as_json:
        print(json.dumps({"targets": rows, "oldest_waiting_seconds":
                          round(engine.oldest_waiting(store))}, ensure_ascii=False))
    for s in [] if as_json else rows:
        line = f"{s['name']:<12} {s['state']:<8} {s['waiting_files']:>4} file(s) waiting " \
               f"({_mb(s['waiting_bytes'])})"
        if s["state"] == "failing":
            when = dt.datetime.fromtimestamp(float(s["next_try"] or 0)).strftime("%H:%M:%S")
            line += f", failing: {s['error']}; next try {when}"
        elif s["state"] == "waiting":
            line += f", {REASONS.get(str(s['reason']), s['reason'])}"
        line += f"; today {s['sent_today_files']} file(s), {_mb(s['sent_today_bytes'])}"
        print(line)
    return 1 if any(s["state"] == "failing" for s in rows) else 0


def _mb(n: object) -> str:
    return f"{float(str(n)) / 2**20:.1f} MB"
