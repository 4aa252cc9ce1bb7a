"""`edge dossier list|show|rename|uploaded|export`: a citizen's dossier (the documents sharing a
ticket) from the command line, through the same `edge.pipeline.dossiers` functions as the web UI.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path

from edge import config
from edge.errors import JobError
from edge.pipeline import dossiers
from edge.pipeline.job import State
from edge.pipeline.queue import Queue
from edge.pipeline.storage import Storage

TODO = {"decide_paused": "decide on the paused document (edge resume JOB, or edge finish JOB)",
        "wait_scanning": "wait: a document is being scanned",
        "give_code": "give it its dossier code (edge dossier rename {ref} CODE)",
        "upload": "upload its files to the portal, then: edge dossier uploaded {ref}"}


def add_arguments(sp: argparse.ArgumentParser) -> None:
    """`edge dossier ACTION ...` (the parser of `edge dossier`)."""
    actions = sp.add_subparsers(dest="action", required=True, metavar="ACTION")
    ls = actions.add_parser("list", help="dossiers, newest first")
    ls.add_argument("--pending", action="store_true", help="only those not all uploaded")
    ls.add_argument("--today", action="store_true", help="only those begun today")
    ls.add_argument("--json", action="store_true")
    show = actions.add_parser("show", help="one dossier and its documents")
    rename = actions.add_parser("rename", help="give the whole dossier its dossier code "
                                "(every file is renamed with its checksum)")
    uploaded = actions.add_parser("uploaded", help="mark every ready document uploaded")
    export = actions.add_parser("export", help="write the dossier's files, checksums and "
                                "manifest.json into one ZIP")
    for p in (show, rename, uploaded, export):
        p.add_argument("ref", metavar="REF", help="the dossier's ticket or dossier code")
    rename.add_argument("code", metavar="CODE", help="national dossier code")
    show.add_argument("--json", action="store_true")
    export.add_argument("-o", "--output", type=Path, metavar="FILE.zip",
                        help="where to write it (default: REF.zip here); never overwritten")


def run(cfg: config.Config, storage: Storage, queue: Queue, args: argparse.Namespace) -> int:
    if args.action == "list":
        found = dossiers.listing(queue, pending=args.pending, today=args.today)
        if args.json:
            print(json.dumps([d.summary() for d in found], ensure_ascii=False))
        for d in [] if args.json else found:
            print(f"{d.ticket:<16} {d.code or '-':<26} {d.state:<9} {len(d.jobs):>2} doc(s) "
                  f"{sum(j.pages for j in d.jobs):>4}p  {_time(d.jobs[0].created)}  "
                  f"{', '.join(t.replace('_', ' ') for t in d.todo)}")
        return 0
    if args.action == "show":
        _show(dossiers.find(queue, args.ref), args.json)
    elif args.action == "rename":
        _show(dossiers.rename(cfg, storage, queue, args.ref, args.code), False)
    elif args.action == "uploaded":
        d = dossiers.uploaded(queue, args.ref)
        print(f"dossier {d.ref}: every document marked uploaded; its files are deleted after "
              f"{cfg.storage.retention_days} day(s)")
    else:
        _export(storage, queue, args.ref, args.output)
    return 0


def _show(d: dossiers.Dossier, as_json: bool) -> None:
    if as_json:
        print(json.dumps(d.summary(), ensure_ascii=False))
        return
    code = f" (code {d.code})" if d.code else ""
    print(f"dossier {d.ticket}{code}: {d.state}, {len(d.jobs)} document(s), "
          f"{sum(j.pages for j in d.jobs)} page(s), begun {_time(d.jobs[0].created)}")
    for j in d.jobs:
        print(f"  {j.seq}. {j.doc}: job {j.id}, {j.state}, {j.pages} page(s)"
              + (f", {j.message}" if j.message and j.state != State.READY else ""))
        for f in j.files:
            print(f"       {f.path} ({f.bytes} bytes)")
    for todo in d.todo:
        print("  to do: " + TODO[todo].format(ref=d.ref))


def _export(storage: Storage, queue: Queue, ref: str, output: Path | None) -> None:
    exp = dossiers.export(storage, queue, ref)
    path = output or Path(exp.name)
    try:
        out = path.open("xb")
    except FileExistsError:
        exp.close()
        raise JobError(f"{path} exists already; choose another file with -o") from None
    except OSError as e:
        exp.close()
        raise JobError(f"cannot write {path}: {e.strerror}") from None
    with out:
        try:
            exp.write(out)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
    print(f"{path}: {len(exp.files)} file(s) with their .sha256 and manifest.json; check them "
          "after unzipping with: sha256sum -c *.sha256")


def _time(t: float) -> str:
    return dt.datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M")
