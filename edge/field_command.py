"""`edge visit start|end|show` and the citizens' queue actions of `edge queue` (issue, next,
recall, done, left, list): the same edge/field functions as the web UI, for a technician at a
terminal or a script. Output is English (or one JSON object with --json); no citizen names exist
to print."""

from __future__ import annotations

import argparse
import datetime as dt
import json

from edge import config
from edge.errors import EdgeError
from edge.field import events, queue, ticket, visits

QUEUE_ACTIONS = ("issue", "next", "recall", "done", "left", "list")


def add_visit_arguments(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("action", choices=["start", "end", "show"])
    sp.add_argument("--place", help="start: a [[places]] name, or a place typed once "
                    "(remembered for the next visits)")
    sp.add_argument("--venue", default=None, help="start: e.g. \"Nhà văn hóa thôn Đông\" "
                    "(default: the place's venue in the config)")
    sp.add_argument("--json", action="store_true")


def add_queue_arguments(sp: argparse.ArgumentParser) -> None:
    """The citizens' queue options of `edge queue` (its `rebuild` action is the job queue's)."""
    sp.add_argument("number", nargs="?", type=int, help="recall, done, left: today's number")
    sp.add_argument("--area", choices=queue.AREAS, help="issue, next, list: the area")
    sp.add_argument("--priority", choices=queue.PRIORITIES, help="issue: a priority group")
    sp.add_argument("--procedure", help="issue: what the citizen came for, if said")
    sp.add_argument("--printer", help="issue: a [[receipt_printer]] name (default: the first)")
    sp.add_argument("--no-print", action="store_true", help="issue: give the number only")
    sp.add_argument("--json", action="store_true")


def _time(ts: float | None) -> str:
    return f"{dt.datetime.fromtimestamp(ts):%H:%M}" if ts else "-"


def _say(data: dict[str, object], line: str, as_json: bool) -> int:
    print(json.dumps(data, ensure_ascii=False) if as_json else line)
    return 0


def run_visit(cfg: config.Config, args: argparse.Namespace) -> int:
    root = cfg.storage.root
    if args.action == "start":
        if not args.place:
            raise visits.VisitError("edge visit start needs --place NAME (configured: "
                                    f"{', '.join(p.name for p in cfg.places) or 'none'})")
        known = next((p for p in cfg.places if p.name == args.place), None)
        venue = args.venue if args.venue is not None else known.venue if known else ""
        v = visits.start(root, args.place, venue)
        events.started(cfg, v)
        return _say(v.as_dict(), f"visit {v.id} started at {v.place} ({v.day} {_time(v.started)})",
                    args.json)
    if args.action == "end":
        v = visits.end(root)
        events.ended(cfg, v)
        return _say(v.as_dict(), f"visit {v.id} at {v.place} ended at {_time(v.ended)}", args.json)
    v = visits.current(root)
    if v is None:
        return _say({"visit": None}, "no visit is open (edge visit start --place NAME)",
                    args.json)
    counts = {s: len(queue.listing(root, (s,))) for s in queue.STATES}
    return _say({**v.as_dict(), "queue": counts}, f"visit {v.id} at {v.place} since "
                f"{_time(v.started)}: " + ", ".join(f"{n} {s}" for s, n in counts.items()),
                args.json)


def run_queue(cfg: config.Config, args: argparse.Namespace) -> int:
    root = cfg.storage.root
    if args.action == "list":
        rows = queue.listing(root, ("waiting", "called"), args.area)
        if args.json:
            return _say({"queue": [e.as_dict() for e in rows]}, "", True)
        for e in rows:
            print(f"{e.n:4d}  {e.area:9s}  {e.state:7s}  {e.priority or '':10s}  "
                  f"issued {_time(e.issued)}")
        return 0
    if args.action in ("issue", "next") and not args.area:
        raise visits.VisitError(f"edge queue {args.action} needs --area "
                                f"({', '.join(queue.AREAS)})")
    if args.action == "issue":
        return _issue(cfg, args)
    if args.action == "next":
        e = queue.call_next(root, args.area)
        if e is None:
            return _say({"called": None}, f"nobody waits for {args.area}", args.json)
        return _say(e.as_dict(), f"number {e.n} called to {e.area}", args.json)
    if args.number is None:
        raise visits.VisitError(f"edge queue {args.action} needs today's NUMBER")
    act = {"recall": queue.recall, "done": queue.done, "left": queue.left}[args.action]
    e = act(root, queue.find(root, args.number).id)
    return _say(e.as_dict(), f"number {e.n}: {e.state}", args.json)


def _issue(cfg: config.Config, args: argparse.Namespace) -> int:
    e = queue.issue(cfg.storage.root, args.area, args.priority, args.procedure)
    data: dict[str, object] = e.as_dict()
    line = f"number {e.n} issued for {e.area}" + (f" (priority: {e.priority})" if e.priority
                                                   else "")
    if not args.no_print:
        try:
            outcome = ticket.print_number(cfg, e, args.printer)
            data["slip"], line = outcome.state, f"{line}; slip {outcome.state}"
        except EdgeError as err:  # the number stands: say it aloud, print it later
            data["slip"], line = "failed", f"{line}; slip NOT printed: {err.message}"
    return _say(data, line, args.json)
