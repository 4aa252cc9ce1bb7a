"""The satisfaction survey kiosk (`/survey`): a staff member or volunteer logs in on a tablet or
phone and turns it into a kiosk; the account is logged out of that browser and the session can
then only post answers, for a working day at most. Leaving the kiosk needs a login again.

A citizen's own phone on the kit's Wi-Fi may answer too, through the slip's survey QR
(`[receipts] survey_url = "http://<kit>:8080/survey?ticket={ticket}"`): a ticket linked today
to a queue number that has not answered opens the survey for that one number, once.

The page has no external asset (works with no internet); an answer the kit did not receive
waits in the browser (static/survey.js) and is sent again.
"""

from __future__ import annotations

import logging
import secrets
import time

from flask import Blueprint, Response, jsonify, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response as BaseResponse

from edge.field import survey, visits
from edge.telemetry.service import for_process
from edge.web import auth
from edge.web.api import body
from edge.web.context import kit
from edge.web.errors import bad

log = logging.getLogger(__name__)
bp = Blueprint("survey", __name__)
UNLOCK = ("staff", "volunteer")
KIOSK_SECONDS = 16 * 3600  # a working day: the tablet is unlocked again the next morning


def kiosk() -> bool:
    """This browser is a survey kiosk (unlocked by a login, not expired)."""
    since = session.get("kiosk")
    return isinstance(since, float) and 0 <= time.time() - since < KIOSK_SECONDS


def _may_answer() -> bool:
    return kiosk() or auth.current_role() in (*UNLOCK, "admin") or "survey_n" in session


@bp.get("/survey")
def page() -> str | BaseResponse:
    ticket = request.args.get("ticket", "")
    if ticket and not kiosk() and auth.current_role() is None:
        return _one_number(ticket)
    if _may_answer():
        return render_template("survey.html", kiosk=kiosk(), better=survey.BETTER,
                               scores=survey.SCORES[::-1], number=session.get("survey_n"),
                               visit_open=visits.current(kit().cfg.storage.root) is not None)
    return redirect(url_for("pages.login", next="/survey"))


def _one_number(ticket: str) -> str:
    """The survey for the queue number of the slip's ticket, once (a citizen's own phone)."""
    n = survey.open_number(kit().cfg.storage.root, ticket)
    if n is None:
        raise bad("this slip has answered already, or is not of today",
                  "Phiếu này đã được đánh giá, hoặc không phải phiếu hôm nay. Cảm ơn ông/bà!",
                  404)
    session.permanent = False
    session["survey_n"] = n
    return render_template("survey.html", kiosk=False, better=survey.BETTER,
                           scores=survey.SCORES[::-1], number=n)


@bp.post("/survey/kiosk")
@auth.require(*UNLOCK)
def start() -> BaseResponse:
    """This browser becomes a kiosk: the account's session ends here."""
    lang = session.get("lang")
    auth.logout()
    session.permanent = False  # gone when the browser closes
    session.update(kiosk=time.time(), csrf=secrets.token_urlsafe(32))
    if lang:
        session["lang"] = lang
    log.info("survey kiosk started")
    return redirect(url_for("survey.page"))


@bp.post("/survey/leave")
def leave() -> BaseResponse:
    session.pop("kiosk", None)
    return redirect(url_for("pages.login", next="/survey"))


@bp.post("/api/survey")
def answer() -> tuple[Response, int]:
    """One answer: {"score": 1..5, "better": [codes], "number": queue number or null, "age":
    seconds since it was given, for one the tablet kept while off the Wi-Fi}."""
    if not _may_answer():
        raise bad("the survey is answered on a kiosk unlocked by staff or a volunteer",
                  "Máy này chưa được mở chế độ khảo sát: nhờ cán bộ hoặc tình nguyện viên "
                  "đăng nhập và bật chế độ khảo sát", 401)
    data = body()
    better = data.get("better") or []
    if not isinstance(better, list) or len(better) > len(survey.BETTER):
        raise bad("better: expected a list of codes", "Lựa chọn góp ý không hợp lệ")
    number = data.get("number")
    if isinstance(number, str) and number.strip().isdigit():
        number = int(number.strip())
    elif number in ("", None):
        number = None
    once = session.get("survey_n")
    if once is not None and not kiosk() and auth.current_role() is None:
        number = once  # the slip's number, whatever was typed
    a = survey.answer(kit().cfg.storage.root, data.get("score"), better, number,  # type: ignore[arg-type]
                      age=data.get("age", 0.0))  # type: ignore[arg-type]
    if once is not None:
        session.pop("survey_n", None)
    for_process(kit().cfg).counts_changed()
    return jsonify(ok=True, visit=a.visit is not None), 201
