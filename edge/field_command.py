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


def add_visit_arguments(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("action", choices=["start", "end", "show"])
    sp.add_argument("--place", help="start: a [[places]] name, or a place typed once "
                    "(remembered for the next visits)")
    sp.add_argument("--venue", default=None, help="start: e.g. \"Nhà văn hóa thôn Đông\" "
                    "(default: the place's venue in the config)")
    sp.add_argument("--json", action="store_true")


def add_queue_arguments(sp: argparse.ArgumentParser, rebuild: str) -> None:
    """`edge queue ACTION`: the citizens' queue of a visit, and `rebuild` (whose help is
    `rebuild`), the job queue database's; each action takes only its own options."""
    acts = sp.add_subparsers(dest="action", required=True, metavar="ACTION")

    def act(name: str, help: str) -> argparse.ArgumentParser:
        a = acts.add_parser(name, help=help, description=help)
        if name != "rebuild":
            a.add_argument("--json", action="store_true")
        return a

    act("rebuild", rebuild).add_argument("--force", action="store_true",
                                         help="rebuild even a queue that reads fine")
    a = act("issue", "give a citizen the day's next number and print its slip")
    a.add_argument("--area", choices=queue.AREAS, required=True)
    a.add_argument("--priority", choices=queue.PRIORITIES, help="a priority group")
    a.add_argument("--procedure", help="what the citizen came for, if said")
    a.add_argument("--printer", help="a [[receipt_printer]] name (default: the first)")
    a.add_argument("--no-print", action="store_true", help="give the number only")
    act("next", "call the next number to an area (priority groups first)").add_argument(
        "--area", choices=queue.AREAS, required=True)
    act("list", "the numbers waiting or being served").add_argument(
        "--area", choices=queue.AREAS, help="one area only")
    for name, help in (("recall", "call a number again"), ("done", "a number was served"),
                       ("left", "a citizen left before being served")):
        act(name, help).add_argument("number", type=int, help="today's number")


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
    if args.action == "issue":
        return _issue(cfg, args)
    if args.action == "next":
        e = queue.call_next(root, args.area)
        if e is None:
            return _say({"called": None}, f"nobody waits for {args.area}", args.json)
        return _say(e.as_dict(), f"number {e.n} called to {e.area}", args.json)
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
