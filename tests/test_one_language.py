"""One language at a time, everywhere: every page (each role, each page route of the app's
url_map, the error pages) and every API error the web can give, rendered in Vietnamese, carries
no word of the i18n table's English column, and the converse in English.

What counts as a "word": a run of letters (no digits, no "_"), compared case-insensitively and
whole, from every (vi, en) table in edge/web/i18n.py ({placeholders} left out). A word found in
both columns ("in", "PDF", "Modem", "English") says nothing and is ignored. In a Vietnamese page
the forbidden words are the English column's other words; in an English page, the Vietnamese
column's words that carry a Vietnamese letter (plain ASCII ones such as "in", "tin" may be
English too). Data is not language: the kit's config (device labels, document types, preset
labels, commune), the slip templates' titles, labels and choices, user names, tickets, dossier
codes and file names are cut out of the text before it is read. Pages are read twice: the
server's HTML (test client, every role and route), and the DOM after the page's scripts ran
(headless Chromium against real `edge run` + `edge web`), where live text is drawn.
"""

from __future__ import annotations

import html.parser
import re

import pytest

from edge.pipeline.queue import Queue
from edge.receipts import compose, template
from edge.web import i18n
from edge.web.app import create_app

from .web_browser import Stack
from .web_kit import ARTIFACTS, PASSWORDS, ROLES, add_web

pytest_plugins = ["tests.web_browser"]  # fixtures: browser
LANGS = ("vi", "en")
USERS = (None, *ROLES)  # anonymous first


def _tables() -> list[tuple[str, str]]:
    """Every (vi, en) pair of the i18n module, whatever its table."""
    pairs = []
    for value in vars(i18n).values():
        if isinstance(value, dict) and value and all(
                isinstance(v, tuple) and len(v) == 2 and all(isinstance(x, str) for x in v)
                for v in value.values()):
            pairs += [v for k, v in value.items() if k != "device_words"]
    return pairs


def words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[^\W\d_]+", re.sub(r"\{\w*\}", " ", text))}


_VI = set().union(*(words(vi) for vi, _ in _tables()))
_EN = set().union(*(words(en) for _, en in _tables()))
FORBIDDEN = {"vi": {w for w in _EN - _VI if len(w) > 1},
             "en": {w for w in _VI - _EN if not w.isascii()}}
DATA = [re.compile(p) for p in (r"[A-Z0-9]{2,8}-\d{6}-\d{3,4}",  # tickets, dossier codes, files
                                r"\d{3}\.\d{2}\.\d{2}\.\w+-\d+-\d+", r"[\w.-]+\.(pdf|zip|png)")]


def data_texts(cfg) -> list[str]:
    """What the kit's config and slip templates say: shown as it is in both languages."""
    out = [cfg.kit.commune, cfg.receipts.header, *cfg.web.doc_types,
           *(u.name for u in cfg.web.users)]
    for kind in ("scanner", "ups", "modem", "printer", "usb", "receipt_printer"):
        out += [d.label for d in getattr(cfg, kind)]
    out += [p.label for s in cfg.scanner for p in s.presets.values()]
    out += [p.doc for s in cfg.scanner for p in s.presets.values()]
    out += [t for p in cfg.places for t in (p.name, p.venue)]
    folder = compose.templates_folder(cfg)
    out.append(", ".join(sorted(template.available(folder))))  # template file names, as listed
    for name in template.available(folder):
        tpl = template.load(name, folder)
        out += [tpl.title, *(f.label for f in tpl.fields.values())]
        out += [c for f in tpl.fields.values() for c in f.choices.values()]
    return sorted({t for t in out if t}, key=len, reverse=True)


def leaks(text: str, lang: str, data: list[str]) -> set[str]:
    for d in data:
        text = text.replace(d, " ")
    for p in DATA:
        text = p.sub(" ", text)
    return words(text) & FORBIDDEN[lang]


class Visible(html.parser.HTMLParser):
    """The text a person reads in server HTML: text nodes and placeholders, no scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        self.skip += tag in ("script", "style")
        self.parts += [v for k, v in attrs if k in ("placeholder", "aria-label", "alt") and v]

    def handle_endtag(self, tag):
        self.skip -= tag in ("script", "style")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def visible(markup: str) -> str:
    p = Visible()
    p.feed(markup)
    return " ".join(p.parts)


def test_the_vocabulary_is_sensible():
    assert {"scan", "devices", "log"} <= FORBIDDEN["vi"], FORBIDDEN["vi"]
    assert {"đăng", "nhập", "máy"} <= FORBIDDEN["en"]
    assert not FORBIDDEN["vi"] & {"in", "pdf", "english"}  # same in both, or the other's name
    assert leaks("Đã in phiếu PL01-261203-007 trên Máy in phiếu bàn 1", "vi", []) == set()
    assert {"slip", "printed"} <= leaks("printed · DEMO-x — Slip printed on receipt", "vi", [])


# ------------------------------------------------------------------ server HTML and API errors


@pytest.fixture
def app(kit, tmp_path):
    kit.configure([{"name": "sim-adf", "driver": "sim", "label": "Máy quét Fujitsu bàn 1",
                    "presets": {"ks": {"label": "Giấy khai sinh", "doc": "Giấy khai sinh"}}}])
    with open(kit.config, "a", encoding="utf-8") as f:
        f.write(f'\n[[receipt_printer]]\nname = "receipt"\ntransport = "file"\n'
                f'path = "{tmp_path / "slip.bin"}"\n')
    add_web(kit.config, extra="login_attempts = 100000")  # the bad logins below are many
    app = create_app(kit.cfg())
    app.testing = False  # the 500 page as people get it
    with Queue(app.extensions["edge_kit"].storage.db) as q:  # job 1, queued: actions conflict
        q.create(kit="PL01", doc="CCCD", scanner="sim-adf", preset="")

    @app.get("/boom")
    def boom():
        raise RuntimeError("a bug")

    @app.get("/api/boom")
    def api_boom():
        raise RuntimeError("a bug")

    return app


def session(app, user: str | None, lang: str):
    c = app.test_client()
    token = c.get("/api/csrf").json["csrf_token"]
    c.post("/lang", data={"lang": lang, "csrf_token": token})
    if user:
        r = c.post("/api/login", json={"name": user, "password": PASSWORDS[user]},
                   headers={"X-CSRF-Token": token})
        token = r.json["csrf_token"]
    return c, token


def page_routes(app) -> list[str]:
    return sorted(r.rule for r in app.url_map.iter_rules()
                  if "GET" in r.methods and not r.arguments and not r.rule.startswith(
                      ("/api/", "/static/")) and r.rule != "/boom")


ERROR_PAGES = [("get", "/no-such-page", 404), ("get", "/logout", 405), ("get", "/boom", 500),
               ("post", "/login", 413)]


@pytest.mark.parametrize("lang", LANGS)
def test_every_page_and_error_page_in_one_language(app, lang):
    data, found = data_texts(app.extensions["edge_kit"].cfg), {}
    for user in USERS:
        c, token = session(app, user, lang)
        for path in page_routes(app):
            r = c.get(path, follow_redirects=True)
            assert r.status_code in (200, 403), (user, path, r.status_code)
            if bad := leaks(visible(r.text), lang, data):
                found[(user, path)] = bad
        for method, path, status in ERROR_PAGES:
            body = {"csrf_token": token, "x": "a" * 70_000} if status == 413 else None
            r = getattr(c, method)(path, data=body)
            assert r.status_code == status, (path, r.status_code)
            assert 'role="alert"' in r.text and 'id="home"' in r.text, r.text[:500]
            if bad := leaks(visible(r.text), lang, data):
                found[(user, path)] = bad
    assert not found, found


BAD_BODIES = [None, {}, {"scanner": 5, "doc": ["x"], "dossier": "nope", "template": "",
                         "fields": "x", "name": 3, "password": 4, "pages": "x", "ticket": 7},
              {"scanner": "sim-adf", "doc": "", "template": "reception", "fields": {},
               "dossier": "x" * 3000, "pages": [999]},
              {"template": "nope", "name": "staff", "password": "wrong"},
              {"scanner": "nope", "doc": "CCCD", "dossier": "bad-code", "pages": [1, 2]},
              {"scanner": "sim-adf", "preset": "nope", "template": "reception",
               "fields": {"ticket": "bad", "citizen": "A", "procedure": "B", "x": "1"}},
              {"scanner": "sim-adf", "doc": "CCCD", "dossier": "000.00.04.H40-230414-0002",
               "template": "reception", "printer": "nope",
               "fields": {"ticket": "PL01-261203-001", "citizen": "A", "procedure": "B",
                          "received": "32/13/2026"}}]


def api_calls(app):
    """(method, url, body, query) for every API route, its arguments filled in with bad values."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule == "/api/logout"):  # last
        if not rule.rule.startswith("/api/"):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"} | {"PUT"}):
            for arg in ("nope", "999999", "1"):
                url = rule.rule
                for name in rule.arguments:
                    url = re.sub(rf"<(\w+:)?{name}>", arg if name != "action" else
                                 "resume" if arg == "1" else "explode", url)
                for body in BAD_BODIES if method in ("POST", "PUT") else [None]:
                    yield method, url, body, {"hours": "many"}


@pytest.mark.parametrize("lang", LANGS)
def test_every_api_error_in_one_language(app, lang):
    data = data_texts(app.extensions["edge_kit"].cfg)
    field = "error_vi" if lang == "vi" else "error"
    seen, found = set(), {}
    for user in USERS:
        c, token = session(app, user, lang)
        for method, url, body, query in api_calls(app):
            for headers in ({"X-CSRF-Token": token}, {}):
                if method == "GET" and not headers:
                    continue
                r = c.open(url, method=method, json=body, query_string=query, headers=headers)
                if r.status_code >= 400:
                    assert r.is_json, (url, r.status_code, r.text[:200])
                    text = r.json[field]
                    seen.add((r.status_code, text))
                    if bad := leaks(text, lang, data):
                        found[text] = (user, method, url, body, bad)
                r.close()
    assert not found, found
    assert {s for s, _ in seen} >= {400, 401, 403, 404, 405, 409}, sorted(seen)[:20]
    assert len(seen) > 25, seen


def test_framework_refusals_are_the_kits_words(app):
    for lang in LANGS:
        c, _ = session(app, "staff", lang)
        for path, status in (("/api/no-such", 404), ("/api/boom", 500), ("/no-such", 404)):
            r = c.get(path)
            assert r.status_code == status
            vi, en = i18n.ERROR_WORDS[status]
            if path.startswith("/api/"):
                assert r.json == {"error": en, "error_vi": vi}
            else:
                assert (vi if lang == "vi" else en) in r.text and "Not Found" not in r.text


# ------------------------------------------------------------------ the DOM after the scripts


@pytest.fixture
def live(kit, tmp_path):
    kit.configure([{"name": "sim-adf", "driver": "sim", "label": "Máy quét Fujitsu bàn 1",
                    "sim": {"sheets": 2, "page_delay": 0.05},
                    "presets": {"ks": {"label": "Giấy khai sinh", "doc": "Giấy khai sinh"}}},
                   {"name": "sim-flat", "driver": "sim", "source": "flatbed"}])
    with open(kit.config, "a", encoding="utf-8") as f:
        f.write(f'\n[system]\ndriver = "sim"\n[[ups]]\nname = "ups"\ndriver = "sim"\n'
                'sim = { outage_after = 0.0 }\n[[printer]]\nname = "mfp"\ndriver = "sim"\n'
                f'[[receipt_printer]]\nname = "receipt"\ntransport = "file"\n'
                f'label = "Máy in phiếu bàn 1"\npath = "{tmp_path / "slip.bin"}"\n')
    s = Stack(kit)
    yield s.start()
    s.stop()


def dom_text(page) -> str:
    """What a person reads after the scripts ran, without what the page marks as data
    (translate="no": a text a device reports, such as a printer's model name)."""
    text, data = page.evaluate("""() => [document.body.innerText + ' ' + [...document
        .querySelectorAll('[placeholder], [aria-label], img[alt]')].map((e) =>
        e.getAttribute('placeholder') || e.getAttribute('aria-label') || e.getAttribute('alt'))
        .join(' ') + ' ' + document.title,
        [...document.querySelectorAll('[translate=no]')].map((e) => e.innerText)]""")
    for d in sorted(data, key=len, reverse=True):
        text = text.replace(d, " ")
    return text


def settle(page) -> None:
    """Wait until the scripts have drawn: the text the same for two looks 0.7 s apart (live
    views never let the network go idle)."""
    page.wait_for_load_state()
    page.wait_for_function("""() => { const t = document.body.innerText;
        const same = t === window.__seen; window.__seen = t; return same; }""", polling=700)


@pytest.mark.parametrize("lang", LANGS)
def test_every_page_after_its_scripts_in_one_language(kit, live, browser, lang):
    app = create_app(kit.cfg())
    routes, data, found = page_routes(app), data_texts(kit.cfg()), {}
    for user in ("staff", "tech", "vol"):
        ctx = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=live.url)
        page = ctx.new_page()
        page.set_default_timeout(20_000)
        page.goto("/login")
        if lang == "en":
            page.click("button[name=lang]")
            page.wait_for_load_state()
        page.fill("#name", user)
        page.fill("#password", "wrong")
        page.click("#login")
        page.wait_for_selector(".error[role=alert]")
        assert page.locator("html").get_attribute("lang") == lang
        found[(user, "/login error")] = leaks(dom_text(page), lang, data)
        page.fill("#name", user)
        page.fill("#password", PASSWORDS[user])
        page.click("#login")
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("lang") == lang  # the choice survives login
        for path in [*routes, "/no-such-page"]:
            page.goto(path)
            settle(page)
            found[(user, path)] = leaks(dom_text(page), lang, data)
        if user == "vol":
            page.goto("/receipts")
            page.wait_for_selector("#slip-form input[name=citizen]")
            page.click("#print")  # nothing filled: the refusal, each empty field marked
            page.wait_for_selector(".field-error")
            found[(user, "/receipts refused")] = leaks(dom_text(page), lang, data)
        ctx.close()
    found = {k: v for k, v in found.items() if v}
    assert not found, found


def test_screens_in_both_languages(kit, live, browser):
    """Login (with its error), 404, devices and volunteers' pages at 360x780 and 1280x800 in
    both languages, into test-artifacts/ to be looked at."""
    for lang in LANGS:
        ctx = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=live.url)
        page = ctx.new_page()
        page.goto("/login")
        if lang == "en":
            page.click("button[name=lang]")
        page.fill("#name", "staff")
        page.fill("#password", "wrong")
        page.click("#login")
        page.wait_for_selector(".error[role=alert]")
        shots(page, f"lang-login-{lang}")
        page.fill("#name", "staff")
        page.fill("#password", PASSWORDS["staff"])
        page.click("#login")
        page.wait_for_load_state()
        for path, name, ready in (("/no-such-page", "404", "#home"),
                                  ("/devices", "devices", "[data-device=ups-ups]"),
                                  ("/receipts", "receipts", "#slip-form input")):
            page.goto(path)
            page.wait_for_selector(ready)
            settle(page)
            shots(page, f"lang-{name}-{lang}")
        ctx.close()


def shots(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    for width, height in ((360, 780), (1280, 800)):
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(200)
        page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
