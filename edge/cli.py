"""The `edge` command: run the service, scan, list, rename, verify and check the config.

Exit codes: 0 done, 1 failed (or problems found), 2 bad config or usage, 3 job paused.
Errors are printed in English with the fix; the web UI shows the Vietnamese text of the same error.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import signal
import sqlite3
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from edge import __version__, config, daemon, delivery_command, dossier_command, field_command, logs
from edge.errors import ConfigError, EdgeError, JobError
from edge.pipeline import actions, dossiers, naming, outbox
from edge.pipeline.job import Job, State
from edge.pipeline.queue import Queue

EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_PAUSED = 0, 1, 2, 3
VIA = "command line"  # in a job's history: who acted on it


def main(argv: list[str] | None = None) -> int:
    daemon.guard_sigpipe()
    args = _parser(_scanner_names(argv)).parse_args(argv)
    try:  # `edge fleet` runs on the commune server, where there is no kit config
        cfg = None if args.func is cmd_fleet else config.load(config.config_path(args.config))
        logs.setup(cfg.log.level if cfg else args.log_level)
        code = int(args.func(cfg, args))
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return code
    except BrokenPipeError:  # `edge ... | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED
    except ConfigError as e:
        print(f"edge: config error: {e}", file=sys.stderr)
        return EXIT_CONFIG
    except EdgeError as e:
        print(f"edge: {e}", file=sys.stderr)
        return EXIT_FAILED
    except sqlite3.DatabaseError as e:  # the queue's own errors are EdgeErrors; this is a bug
        print(f"edge: a database cannot be read: {str(e).split(' with text ')[0]} "
              "(see docs/operations.md, 'The queue is damaged')", file=sys.stderr)
        return EXIT_FAILED
    except Exception:
        logging.getLogger("edge").exception("internal error")
        print("edge: internal error (details above); nothing scanned is lost: the next edge "
              "command recovers the job", file=sys.stderr)
        return EXIT_FAILED


def _scanner_names(argv: list[str] | None) -> str:
    """For `edge scan --help`: the config's scanner names, or why they cannot be listed."""
    argv = sys.argv[1:] if argv is None else argv
    if not {"-h", "--help"} & set(argv):
        return ""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--config")
    try:
        cfg = config.load(config.config_path(pre.parse_known_args(argv)[0].config))
    except EdgeError as e:
        return f"(the config cannot be read: {e}; see `edge check-config`)"
    return ", ".join(s.name for s in cfg.scanner if not s.imports) or "none configured"


def _parser(scanners: str = "") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="edge", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"edge {__version__}")
    p.add_argument("--config", help="config file (default: $EDGE_CONFIG or /etc/edge/edge.toml)")
    sub = p.add_subparsers(required=True, metavar="COMMAND")

    def cmd(name: str, func: Callable[..., int], help: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help, description=help)
        sp.set_defaults(func=func)
        return sp

    cmd("run", cmd_run, "run the service (queue worker) until SIGTERM")
    cmd("check-config", cmd_check_config, "validate the config file and exit")
    sp = cmd("scan", cmd_scan, "scan one document to a PDF through the queue")
    sp.add_argument("--scanner", required=True, help="a [[scanner]] name"
                    + (f" of the config: {scanners}" if scanners else ""))
    sp.add_argument("--preset", default="", help="a preset of that scanner")
    sp.add_argument("--doc", default="", help='document type, e.g. "Giấy khai sinh"')
    sp.add_argument("--dossier", help=f"national dossier code ({naming.DOSSIER_PATTERN}); "
                    "the dossier that has it already gets this document")
    sp.add_argument("--into", metavar="TICKET", help="add this document to that dossier (its "
                    "ticket or dossier code), as its next document")
    sp.add_argument("--set-aside", action="store_true", help="start though the scanner has a "
                    "paused job (that job stays paused; resume or finish it later)")
    sp.add_argument("--json", action="store_true", help="print the job as one JSON object")
    sp = cmd("import", cmd_import, "make a PDF from image or PDF files, like a scan")
    sp.add_argument("files", nargs="+", type=Path, metavar="FILE")
    sp.add_argument("--preset", default="", help="a preset of the import entry")
    sp.add_argument("--doc", default="", help='document type, e.g. "Giấy khai sinh"')
    sp.add_argument("--dossier", help=f"national dossier code ({naming.DOSSIER_PATTERN})")
    sp.add_argument("--json", action="store_true", help="print the job as one JSON object")
    for name, func, text in (("resume", cmd_resume, "continue scanning a paused job"),
                             ("finish", cmd_finish, "make the PDF of a paused job as it is")):
        sp = cmd(name, func, text)
        sp.add_argument("job", help="job number or ticket")
        sp.add_argument("--json", action="store_true")
    sp = cmd("status", cmd_status, "show the health of every device (UPS, 4G, printer, Pi...)")
    sp.add_argument("--json", action="store_true")
    sp = cmd("print", cmd_print, "print a PDF on the multifunction printer and follow the job")
    sp.add_argument("file", type=Path, metavar="FILE.pdf")
    sp.add_argument("--printer", help="a [[printer]] name (default: the first)")
    sp.add_argument("--wait", type=float, default=300.0, metavar="SECONDS",
                    help="how long to follow the job (default 300)")
    sp = cmd("cover", cmd_cover, "print cover sheets that split one scanned stack into "
             "documents (one sheet per document type)")
    sp.add_argument("--dossier", help="the dossier (ticket or code) the sheets are for; "
                    "without it the sheets are reusable")
    sp.add_argument("--doc", nargs="+", default=[], metavar="TYPE",
                    help='document types, in order (e.g. "Giấy chứng sinh")')
    sp.add_argument("--procedure", help="a procedure of the catalogue ([[procedures]]): its "
                    "usual documents")
    sp.add_argument("--printer", help="a [[printer]] name (default: the first)")
    sp.add_argument("--pdf", type=Path, metavar="OUT", help="write the sheets to this PDF file "
                    "instead of printing them")
    sp = cmd("receipt", cmd_receipt, "print a slip for a citizen on a receipt printer")
    sp.add_argument("--template", required=True, help="reception, appointment, note...")
    sp.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="a field of the template (repeat)")
    sp.add_argument("--printer", help="a [[receipt_printer]] name (default: the first)")
    sp.add_argument("--preview", type=Path, metavar="OUT.png",
                    help="write the exact raster that would be printed, print nothing")
    sp.add_argument("--json", action="store_true")
    cmd("doctor", cmd_doctor, "check everything the kit needs; one line per check, with the fix")
    sp = cmd("web", cmd_web, "serve the local web UI (staff scan, technicians, volunteers)")
    sp.add_argument("--host", help="override [web] host")
    sp.add_argument("--port", type=int, help="override [web] port")
    sp = cmd("user", cmd_user, "web UI accounts in the config file: add NAME --role R, "
             "passwd NAME, remove NAME, list; hash [NAME] only prints a hash or entry")
    sp.add_argument("action", choices=["add", "passwd", "remove", "list", "hash"],
                    help="add, passwd and hash read the password or PIN (prompt, or one line "
                         "on stdin)")
    sp.add_argument("name", nargs="?", help="user name (1-32 letters, digits, '.', '-', '_')")
    sp.add_argument("--role", choices=["staff", "technician", "volunteer", "admin"],
                    help="default: staff for a new user, unchanged for passwd")
    field_command.add_queue_arguments(cmd(
        "queue", cmd_queue, "the citizens' queue of a visit: issue a number, call the next, "
        "recall, done, left, list; and `rebuild`, for the job queue database"),
        rebuild="rebuild a lost or damaged job queue database: the old one is moved aside, "
        "ticket numbers continue, outbox documents are re-adopted")
    field_command.add_visit_arguments(cmd("visit", cmd_visit, "a visit (buổi lưu động) to a "
                                          "place: start --place NAME, end, show"))
    dossier_command.add_arguments(cmd(
        "dossier", cmd_dossier, "a citizen's dossier (the documents of one ticket): list, show, "
        "rename with its code, mark uploaded, export as a ZIP"))
    delivery_command.add_arguments(cmd(
        "delivery", cmd_delivery, "finished dossiers sent to the commune's storage: status, "
        "retry now, or one pass here"))
    sp = cmd("jobs", cmd_jobs, "list jobs")
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--state", choices=[s.value for s in State])
    sp = cmd("rename", cmd_rename, "give the job's dossier its code (every file moves with its "
             "checksum; see `edge dossier rename`)")
    sp.add_argument("job")
    sp.add_argument("--dossier", required=True)
    sp.add_argument("--json", action="store_true")
    sp = cmd("restore", cmd_restore, "put pages taken for blank back into the job's PDF")
    sp.add_argument("job")
    sp.add_argument("page", type=int, nargs="+", help="page numbers (see `edge jobs --json`)")
    sp.add_argument("--json", action="store_true")
    sp = cmd("uploaded", cmd_uploaded, "mark a job as uploaded to the portal")
    sp.add_argument("job")
    cmd("verify", cmd_verify, "re-hash every outbox file against its record and checksum file")
    sp = cmd("update", cmd_update, "install a signed release bundle beside the running one, "
             "switch to it, roll back by itself if it does not come up (as root)")
    sp.add_argument("source", nargs="?", metavar="FILE|URL",
                    help="edge-<version>-<arch>.tar, or an https:// address (default [update] url)")
    sp.add_argument("--requested", action="store_true", help="the update asked for on the "
                    "technician's web page (what edge-update.service runs)")
    cmd("purge", cmd_purge, "delete uploaded jobs older than the retention period now")
    sp = cmd("report", cmd_report, "the day-in-the-field report of a visit or a month (per "
             "place): citizens served, dossiers, pages, waiting times, satisfaction")
    which = sp.add_mutually_exclusive_group(required=True)
    which.add_argument("--visit", type=int, metavar="ID", help="a visit (see `edge visit show`)")
    which.add_argument("--month", metavar="YYYY-MM", help="every visit of a month")
    sp.add_argument("--place", help="with --month: only the visits to this place")
    sp.add_argument("--format", choices=["csv", "xlsx", "pdf"], default="csv")
    sp.add_argument("-o", "--output", type=Path, metavar="FILE",
                    help="write here (default: standard output); a PDF prints with `edge print`")
    sp = cmd("fleet", cmd_fleet, "commune server: collect every kit's MQTT telemetry into a "
             "database (no kit config needed), or print the fleet table")
    sp.add_argument("--broker", default="localhost", metavar="HOST[:PORT]",
                    help="default localhost:1883 (8883 with TLS)")
    sp.add_argument("--db", default="fleet.db", help="SQLite file (default fleet.db) or "
                    "postgresql://USER@HOST/DATABASE (password: ~/.pgpass or $PGPASSWORD)")
    sp.add_argument("--topic", default="dvc/#", help="what to subscribe to (default dvc/#)")
    sp.add_argument("--username", default="")
    sp.add_argument("--password-file", type=Path,
                    help="file holding the password (or set $EDGE_FLEET_PASSWORD)")
    sp.add_argument("--tls", action="store_true", help="TLS with the system's CAs")
    sp.add_argument("--ca-file", type=Path, help="CA certificate of the broker (implies --tls)")
    sp.add_argument("--cert-file", type=Path, help="client certificate, if the broker asks")
    sp.add_argument("--key-file", type=Path)
    sp.add_argument("--client-id", default="", help="default edge-fleet-<hostname>: keep it "
                    "fixed, the broker keeps this session's messages while the collector is down")
    sp.add_argument("--table", action="store_true", help="print the fleet table and exit")
    sp.add_argument("--json", action="store_true", help="with --table: one JSON array")
    sp.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    sp.add_argument("--share", default="", metavar="GROUP", help="several collectors on one "
                    "database: subscribe as $share/GROUP/<topic>, the broker splits the messages")
    sp.add_argument("--keep-days", type=float, default=400.0, help="forget samples, events and "
                    "counts older than this (default 400; 0 keeps everything)")
    fleet_commands(sp)
    return p


def cmd_check_config(cfg: config.Config, args: argparse.Namespace) -> int:
    from edge.receipts import compose

    slips = compose.check_config(cfg)
    if exposed := config.exposed_secrets(cfg):
        print("edge: warning: {}: {}".format(*exposed), file=sys.stderr)
    print(f"{cfg.path}: OK (kit {cfg.kit.id}, {len(cfg.scanner)} scanner(s), {slips})")
    return EXIT_OK


def cmd_run(cfg: config.Config, args: argparse.Namespace) -> int:
    if exposed := config.exposed_secrets(cfg):
        logging.getLogger("edge").warning("%s: %s", *exposed)
    d = daemon.Daemon(cfg)
    d.block_signals()
    return d.run()


def cmd_scan(cfg: config.Config, args: argparse.Namespace) -> int:
    with _queue(cfg) as (storage, queue):
        ticket = dossiers.find(queue, args.into).ticket if args.into else None
        job = actions.create(cfg, storage, queue, scanner=args.scanner, preset=args.preset,
                             doc=args.doc, dossier=args.dossier, ticket=ticket,
                             aside=args.set_aside)
        return _settle(cfg, storage, queue, job, args.json)


def cmd_import(cfg: config.Config, args: argparse.Namespace) -> int:
    from edge.pipeline import imports
    from edge.pipeline.settings import ScanSettings

    doc, dossier = actions.job_fields(cfg.importer(), args.preset, args.doc, args.dossier)
    dpi = ScanSettings.resolve(cfg.importer(), args.preset).dpi
    with _queue(cfg) as (storage, queue):
        with imports.sort_out(args.files, dpi) as checked:  # same checks as the hot folder
            for path, e in checked.refused:
                print(f"edge: refused {imports.shown(path.name)}: {e.message}", file=sys.stderr)
            job = imports.queue_import(cfg, storage, queue, checked.good, doc=doc,
                                       dossier=dossier, preset=args.preset)
        code = _settle(cfg, storage, queue, job, args.json)
    return EXIT_FAILED if checked.refused and code == EXIT_OK else code


def cmd_resume(cfg: config.Config, args: argparse.Namespace) -> int:
    with _queue(cfg) as (storage, queue):
        job = actions.resume(cfg, storage, queue, args.job, VIA)
        return _settle(cfg, storage, queue, job, args.json)


def cmd_finish(cfg: config.Config, args: argparse.Namespace) -> int:
    with _queue(cfg) as (storage, queue):
        job = actions.finish(queue, args.job, VIA)
        return _settle(cfg, storage, queue, job, args.json)


def _settle(cfg: config.Config, storage: daemon.Storage, queue: Queue, job: Job,
            as_json: bool) -> int:
    """Drive the job in a thread; Ctrl-C or SIGTERM pauses it after the current page."""
    stop = threading.Event()
    result: list[Job] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            with Queue(queue.db) as own:
                result.append(daemon.drive(cfg, storage, own, job.id, stop))
        except BaseException as e:
            errors.append(e)

    signal.pthread_sigmask(signal.SIG_BLOCK, daemon.STOP_SIGNALS)
    t = threading.Thread(target=work, name="scan")
    t.start()
    while t.is_alive():
        got = signal.sigtimedwait(daemon.STOP_SIGNALS, 0.2)
        if got is not None and got.si_signo:  # 0: woken by SIGCONT after a SIGSTOP
            print("edge: stopping after the current page...", file=sys.stderr)
            stop.set()
    t.join()
    if errors:
        raise errors[0]
    job = result[0]
    _print_job(job, as_json)
    if job.state in (State.READY, State.UPLOADED):
        return EXIT_OK
    if job.state != State.FAILED:  # paused, or still with the daemon after Ctrl-C
        if job.state != State.PAUSED:
            print(f"edge: job {job.id} is {job.state}; the running service carries on with it",
                  file=sys.stderr)
        return EXIT_PAUSED
    return EXIT_FAILED


def _print_job(job: Job, as_json: bool) -> None:
    if as_json:
        print(json.dumps(job.summary(), ensure_ascii=False))
        return
    blank = f", {job.blank_pages} blank page(s) set aside" if job.blank_pages else ""
    print(f"job {job.id} {job.ticket}: {job.state}, {job.pages} page(s){blank}")
    for f in job.files:
        print(f"  {f.path} ({f.bytes} bytes, sha256 {f.sha256})")
    if job.message:
        print(f"  {job.message}")
    if job.state == State.PAUSED:
        print(f"  continue: edge resume {job.id}   or make the PDF now: edge finish {job.id}")


def cmd_status(cfg: config.Config, args: argparse.Namespace) -> int:
    """The running service's snapshot if there is one, else a poll of every device now."""
    from edge.health import State

    source, snapshot = daemon.device_health(cfg)
    if args.json:
        print(json.dumps({"source": source, "devices": [h.summary() for h in snapshot]},
                         ensure_ascii=False))
    else:
        print(f"device status ({source}):")
        for h in snapshot:
            print(f"  {h.kind:<8}{h.name:<12}{h.driver:<9}{h.state:<8}"
                  + "  ".join(f"{k}={shown(m.value, m.unit)}"
                              for k, m in list(h.metrics.items())[:6]))
            for p in h.problems:
                print(f"    {p.severity}: {p.en}")
    bad = {State.FAULT, State.ABSENT, State.UNKNOWN}
    return EXIT_FAILED if any(h.state in bad for h in snapshot) else EXIT_OK


def shown(n: object, unit: str) -> str:
    """A metric for people: sizes in KB/MB/GB (`--json` keeps the bytes), the rest as it is."""
    if unit not in ("B", "B/s") or isinstance(n, bool) or not isinstance(n, int | float):
        return f"{n}{unit}"
    prefixes = ("B", "KB", "MB", "GB", "TB")
    step = min(len(prefixes) - 1, int(math.log(max(abs(n), 1), 1024)))
    return f"{n / 1024 ** step:.{0 if step == 0 else 1}f} {prefixes[step]}{unit[1:]}"


PRINT_DONE = {"completed", "canceled", "aborted"}


def cmd_print(cfg: config.Config, args: argparse.Namespace) -> int:
    import time

    from edge.drivers import registry

    printers = [p for p in cfg.printer if args.printer in (None, p.name)]
    if not printers:
        names = ", ".join(p.name for p in cfg.printer) or "none configured"
        raise ConfigError(f"no [[printer]] {args.printer or ''} in the config (printers: {names})")
    with registry.make("printer", printers[0]) as printer:
        job_id = printer.print_pdf(args.file, args.file.stem)  # type: ignore[attr-defined]
        print(f"printer {printer.name}: job {job_id} sent")
        deadline = time.monotonic() + args.wait
        state = "pending"
        while state not in PRINT_DONE and time.monotonic() < deadline:
            time.sleep(1.0)
            state = printer.job_state(job_id)  # type: ignore[attr-defined]
    print(f"printer {printer.name}: job {job_id} {state}")
    return EXIT_OK if state == "completed" else EXIT_FAILED


def cmd_cover(cfg: config.Config, args: argparse.Namespace) -> int:
    from edge.covers import service

    docs = [*(service.procedure(cfg, args.procedure).documents if args.procedure else []),
            *args.doc]
    with _queue(cfg) as (_, queue):
        pdf = service.render(queue, docs, args.dossier)
    if args.pdf:
        args.pdf.write_bytes(pdf)
        print(f"{len(docs)} cover sheet(s) written to {args.pdf}")
        return EXIT_OK
    name, job_id = service.send(cfg, pdf, args.printer, "cover sheets")
    print(f"printer {name}: job {job_id} sent ({len(docs)} cover sheet(s))")
    return EXIT_OK


def cmd_doctor(cfg: config.Config, args: argparse.Namespace) -> int:
    from edge import doctor

    checks = doctor.run(cfg)
    for check in checks:
        print(check.line())
    failed = sum(c.verdict == "FAIL" for c in checks)
    print(f"{len(checks)} check(s), {failed} failed")
    return EXIT_FAILED if failed else EXIT_OK


def cmd_web(cfg: config.Config, args: argparse.Namespace) -> int:
    from edge.web.serve import run

    return run(cfg, args)


def cmd_user(cfg: config.Config, args: argparse.Namespace) -> int:
    from edge.web.users import run

    return run(cfg, args)


def cmd_receipt(cfg: config.Config, args: argparse.Namespace) -> int:
    from edge.receipts.command import run

    return run(cfg, args)


def cmd_visit(cfg: config.Config, args: argparse.Namespace) -> int:
    daemon.open_storage(cfg, queue=False)
    return field_command.run_visit(cfg, args)


def cmd_queue(cfg: config.Config, args: argparse.Namespace) -> int:
    from edge.pipeline.rebuild import rebuild

    if args.action != "rebuild":
        daemon.open_storage(cfg, queue=False)
        return field_command.run_queue(cfg, args)
    storage = daemon.open_storage(cfg, queue=False)
    report = rebuild(storage, cfg.kit.id, force=args.force)
    print(f"old queue database and spool moved to {report.aside} (nothing deleted)")
    print(f"{report.adopted} document(s) re-adopted from the outbox as ready jobs; mark those "
          "already uploaded again (`edge uploaded JOB`)")
    for day, n in sorted(report.last.items()):
        print(f"tickets of {day} continue after number {n}")
    if report.spooled_jobs:
        print(f"pages of {report.spooled_jobs} job(s) are in {report.aside / 'spool'}: those of "
              "unfinished jobs were not recovered; make documents of them with `edge import`")
    for line in report.not_recovered:
        print(f"not recovered: {line}")
    print("now check: edge verify; edge doctor")
    return EXIT_OK


def cmd_jobs(cfg: config.Config, args: argparse.Namespace) -> int:
    with _queue(cfg) as (_, queue):
        jobs = queue.jobs({State(args.state)} if args.state else None)
    if args.json:
        with _queue(cfg) as (_, queue):
            out = [{**j.summary(), "page_list": [p.summary() for p in queue.pages(j.id)]}
                   for j in jobs]
        print(json.dumps(out, ensure_ascii=False))
        return EXIT_OK
    for j in jobs:
        name = Path(j.pdf).name if j.pdf else ""
        print(f"{j.id:>5} {j.ticket:<16} {j.state:<10} {j.pages:>4}p  {j.doc[:30]:<30} {name}")
    return EXIT_OK


def cmd_dossier(cfg: config.Config, args: argparse.Namespace) -> int:
    with _queue(cfg) as (storage, queue):
        return dossier_command.run(cfg, storage, queue, args)


def cmd_delivery(cfg: config.Config, args: argparse.Namespace) -> int:
    with _queue(cfg) as (storage, queue):
        return delivery_command.run(cfg, storage, queue, args)


def cmd_rename(cfg: config.Config, args: argparse.Namespace) -> int:
    with _queue(cfg) as (storage, queue):
        job = actions.rename(cfg, storage, queue, args.job, args.dossier)
    _print_job(job, args.json)
    return EXIT_OK


def cmd_restore(cfg: config.Config, args: argparse.Namespace) -> int:
    with _queue(cfg) as (storage, queue):
        job = actions.restore(queue, args.job, args.page, VIA)
        if job.state == State.PAUSED:
            _print_job(job, args.json)
            return EXIT_PAUSED
        return _settle(cfg, storage, queue, job, args.json)


def cmd_uploaded(cfg: config.Config, args: argparse.Namespace) -> int:
    with _queue(cfg) as (_, queue):
        job = actions.uploaded(queue, args.job)
    print(f"job {job.id} {job.ticket}: uploaded; its files are deleted after "
          f"{cfg.storage.retention_days} day(s)")
    return EXIT_OK


def cmd_verify(cfg: config.Config, args: argparse.Namespace) -> int:
    with _queue(cfg) as (storage, queue):
        problems = outbox.verify(storage, queue)
        checked = sum(len(j.files) for j in queue.jobs({State.READY, State.UPLOADED}))
    for p in problems:
        print(f"{p.path}: {p.what}")
    print(f"{checked} file(s) checked, {len(problems)} problem(s)")
    return EXIT_FAILED if problems else EXIT_OK


def cmd_update(cfg: config.Config, args: argparse.Namespace) -> int:
    from edge.release import requests, update

    if args.requested:
        return update.run_requested(cfg, requests.take(cfg))
    source = args.source or cfg.update.url
    if not source:
        raise ConfigError("give a bundle file or URL, or set [update] url")
    update.update(cfg, source, say=lambda line: print(f"edge: {line}", flush=True))
    return EXIT_OK


def cmd_purge(cfg: config.Config, args: argparse.Namespace) -> int:
    from edge.delivery.engine import purge_rule
    from edge.delivery.store import Store

    with _queue(cfg) as (storage, queue), Store(storage.root) as store:
        n = outbox.purge(storage, queue, cfg.storage.retention_days,
                         delivered=purge_rule(cfg, store))
    print(f"{n} job(s) purged")
    return EXIT_OK


def cmd_report(cfg: config.Config, args: argparse.Namespace) -> int:
    from edge.field import render, report

    if args.place and args.visit is not None:
        raise JobError("--place goes with --month (a visit has one place already)")
    with _queue(cfg) as (storage, queue):
        r = (report.for_visit(storage.root, queue, args.visit) if args.visit is not None
             else report.for_month(storage.root, queue, args.month, args.place))
    data = render.render(r, args.format)
    if args.output is None:
        sys.stdout.buffer.write(data)
    else:
        args.output.write_bytes(data)
        print(f"{r.title} ({r.period}): {args.output}", file=sys.stderr)
    return EXIT_OK


def cmd_fleet(cfg: config.Config | None, args: argparse.Namespace) -> int:
    from edge.telemetry import fleet

    if getattr(args, "fleet_command", None) == "serve":
        from edge.web import fleetserve

        return fleetserve.run(args)
    if getattr(args, "fleet_command", None) == "hash":
        from edge.web.users import print_hash

        return print_hash()
    return fleet.main(args)


def fleet_commands(sp: argparse.ArgumentParser) -> None:
    """`edge fleet serve` (the read-only fleet page) and `edge fleet hash` (for its users)."""
    sub = sp.add_subparsers(dest="fleet_command", metavar="[serve|hash]")
    serve = sub.add_parser("serve", help="the read-only fleet web page for the commune or "
                           "province (its own config: database, users)")
    serve.add_argument("--config", dest="fleet_config", type=Path, required=True,
                       help="the page's TOML config (docs/telemetry.md, fleet page)")
    serve.add_argument("--host", default="", help="default: the config's host")
    serve.add_argument("--port", type=int, default=0, help="default: the config's port")
    sub.add_parser("hash", help="read a password on stdin, print its hash for the page's "
                   "[[users]]")


class _queue:
    """Open the storage and queue for one command, recovering from a crash if nobody works."""

    def __init__(self, cfg: config.Config) -> None:
        self.storage = daemon.open_storage(cfg)
        self.queue = Queue(self.storage.db)
        daemon.recover_if_idle(self.storage, self.queue)

    def __enter__(self) -> tuple[daemon.Storage, Queue]:
        return self.storage, self.queue

    def __exit__(self, *exc: object) -> None:
        self.queue.close()


if __name__ == "__main__":
    sys.exit(main())
