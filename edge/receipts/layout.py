"""Word wrapping at the paper width, shared by the raster and the code-page renderers.

Text breaks between words; a word too long for a line is cut where it must; but a "code" (any
word with a digit in it: ticket numbers, dossier codes, dates, phone numbers) is never cut: it
moves to a line of its own, and if it is still too wide the renderer prints that line smaller.
The measure is the renderer's own (pixels of a TrueType font, or columns of the printer's font),
so both modes wrap the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

S = TypeVar("S")  # a style: whatever the renderer measures with (a font, a column width...)


@dataclass(frozen=True)
class Word(Generic[S]):
    text: str
    style: S

    @property
    def keep(self) -> bool:
        """Never broken: codes and numbers must be read whole."""
        return any(c.isdigit() for c in self.text)


Measure = Callable[[str, S], float]


def words(text: str, style: S) -> list[Word[S]]:
    return [Word(w, style) for w in text.split()]


def wrap(items: Sequence[Word[S]], width: float, measure: Measure[S]) -> list[list[Word[S]]]:
    """Lines of words, each at most `width` wide except a code that alone is wider."""
    lines: list[list[Word[S]]] = []
    line: list[Word[S]] = []
    for word in items:
        if line and line_width([*line, word], measure) <= width:
            line.append(word)
            continue
        if line:
            lines.append(line)
            line = []
        if measure(word.text, word.style) <= width or word.keep:
            line = [word]
            continue
        *full, rest = split_word(word, width, measure)
        lines.extend([piece] for piece in full)
        line = [rest]
    if line:
        lines.append(line)
    return lines


def line_width(line: Sequence[Word[S]], measure: Measure[S]) -> float:
    """Words and the spaces between them (a space in the style of the word after it)."""
    total = 0.0
    for i, w in enumerate(line):
        total += measure(w.text, w.style) + (measure(" ", w.style) if i else 0.0)
    return total


def split_word(word: Word[S], width: float, measure: Measure[S]) -> list[Word[S]]:
    """A long word cut into pieces that each fit (at least one character per piece)."""
    pieces: list[Word[S]] = []
    rest = word.text
    while rest:
        n = 1
        while n < len(rest) and measure(rest[: n + 1], word.style) <= width:
            n += 1
        pieces.append(Word(rest[:n], word.style))
        rest = rest[n:]
    return pieces
