"""Blank page detection, for the empty backs of duplex scans.

A margin is ignored (scanner shadows, punch holes, staples); what remains is cut into cells of
about 2 mm; a cell holds ink when several of its pixels are much darker than the paper. Faint
bleed-through from the other side and lone specks of dust stay below that; a page number or a
one-line note does not. Blank pages are kept in the job, only left out of the PDF.
"""

from __future__ import annotations

import numpy as np

from edge.pipeline.steps import ScannedPage, paper_level

MARGIN = 0.03  # of width and height, each side (~9 mm on A4: edge shadows, not page numbers)
INK_CONTRAST = 0.45  # ink is darker than this share of the paper's brightness below it
CELL_MM = 2.0
CELL_MIN_INK = 3  # pixels (at analysis resolution) for a cell to count as inked
MIN_CELLS = 3  # a page with fewer inked cells is blank


def inked_cells(gray: np.ndarray, dpi: float) -> int:
    h, w = gray.shape
    my, mx = int(h * MARGIN), int(w * MARGIN)
    core = gray[my:h - my, mx:w - mx]
    if core.size == 0:
        return 0
    ink = core < paper_level(core) * (1 - INK_CONTRAST)
    cell = max(2, round(CELL_MM / 25.4 * dpi))
    ch, cw = ink.shape[0] // cell, ink.shape[1] // cell
    counts = ink[:ch * cell, :cw * cell].reshape(ch, cell, cw, cell).sum(axis=(1, 3))
    return int((counts >= CELL_MIN_INK).sum())


def run(page: ScannedPage) -> None:
    cells = inked_cells(page.small(), page.analysis_dpi)
    page.notes["inked_cells"] = cells
    page.blank = cells < MIN_CELLS
