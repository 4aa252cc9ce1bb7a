"""The steps in their order, as one call: kept apart from the page model in `__init__`, which
every step module imports, so the package and its steps do not import each other."""

from __future__ import annotations

from edge.pipeline.steps import ScannedPage, StepSettings, blank, colour, deskew


def run(page: ScannedPage, settings: StepSettings) -> ScannedPage:
    """Run the enabled steps in order: deskew first, so the others see a straight page."""
    for enabled, step in ((settings.deskew, deskew.run), (settings.blank, blank.run),
                          (settings.classify, colour.run)):
        if enabled and not page.blank:  # a blank page is left out: nothing more to decide
            step(page)
    return page
