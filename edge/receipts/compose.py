"""From a template name and a volunteer's values to a rendered slip, for one printer.

The one place that joins config, template, QR URLs and the renderer chosen by `text_mode`, so
`edge receipt`, the web UI and the benchmark make the same slip from the same input.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path

from edge import config
from edge.errors import ConfigError
from edge.receipts import codepage, qr, raster, template, textmode
from edge.receipts.slip import Slip

PAPER_DOTS = {58: 384, 80: 576}


def context(cfg: config.Config, values: Mapping[str, str], now: dt.datetime) -> dict[str, str]:
    """What placeholders may use besides the template's fields."""
    r = cfg.receipts
    dossier, ticket = values.get("dossier", ""), values.get("ticket", "")
    return {"header": r.header or cfg.kit.commune, "commune": cfg.kit.commune,
            "kit": cfg.kit.id, "printed": f"{now:%d/%m/%Y %H:%M}",
            "lookup_url": qr.url(r.lookup_url, dossier, ticket),
            "survey_url": qr.url(r.survey_url, dossier, ticket)}


def templates_folder(cfg: config.Config) -> Path | None:
    """`[receipts] templates`, a relative path being relative to the config file."""
    folder = cfg.receipts.templates
    return cfg.path.parent / folder if folder and not folder.is_absolute() else folder


def check(cfg: config.Config, printer: config.ReceiptPrinter) -> None:
    """Refuse, before anything is printed, settings that cannot work together."""
    qr.check_pattern("lookup_url", cfg.receipts.lookup_url)
    qr.check_pattern("survey_url", cfg.receipts.survey_url)
    if printer.text_mode == "codepage":
        codepage.vietnamese_pages(printer.profile)
    codepage.check_profile(printer)


def check_config(cfg: config.Config) -> str:
    """What `edge check-config` adds for slips: every receipt printer's font and profile, and
    every template the web form would offer (errors name the key or file). The transports
    checked their own keys when the config was loaded."""
    for printer in cfg.receipt_printer:
        check(cfg, printer)
        if printer.font:
            raster.font_file(printer.font, 24)
    folder = templates_folder(cfg)
    if folder and not folder.is_dir():
        raise ConfigError(f"{cfg.path}: receipts.templates: {folder} is not a folder")
    names = template.available(folder)
    for name, path in names.items():
        try:
            template.parse(name, path)
        except template.TemplateError as e:
            raise ConfigError(e.message) from None
    return f"{len(cfg.receipt_printer)} receipt printer(s), {len(names)} slip template(s)"


def build(cfg: config.Config, printer: config.ReceiptPrinter, name: str,
          given: Mapping[str, str], now: dt.datetime | None = None) -> Slip:
    """The slip `name` filled with `given`, rendered for `printer` (TemplateError if refused)."""
    check(cfg, printer)
    now = now or dt.datetime.now()
    tpl = template.load(name, templates_folder(cfg))
    values = template.fill(tpl, given, now)
    blocks = template.resolve(tpl, {**values, **context(cfg, values, now)})
    width = PAPER_DOTS[printer.paper_mm]
    fonts = raster.Fonts.configured(printer.font)
    native = printer.qr == "native"
    if printer.text_mode == "codepage":
        pieces, preview = textmode.render(blocks, width, fonts, native)
    else:
        pieces, preview = raster.render(blocks, width, fonts, native)
    exact = printer.text_mode == "raster" and not native
    return Slip(name, values.get("ticket", ""), tuple(pieces), preview, exact)
