"""PDF invoices and card receipts: one A4 business layout for every language of the portal.

``render_pdf`` lays out a ``PdfDocument`` whose strings are already translated and formatted
(amounts, dates, digits): a title with an optional stamp ("PAID 24 November 2026"), label/value
pairs, the parties side by side, a table whose last column holds amounts, the total in bold,
then notes. A right-to-left document (Persian) mirrors the whole page: text starts at the
right, the table's columns run in reverse so the amounts sit on the left, and the text is
shaped (joined Arabic letters) by HarfBuzz, with the Unicode bidi algorithm keeping Latin codes
and numbers readable inside it.

Fonts come with the code (``fonts/``: DejaVu Sans, which covers Latin, Cyrillic with the Kazakh
letters, and Arabic script with the Persian letters), never from the system. They are parsed
once per process: each document gets a light copy of the parsed font with its own glyph subset.

Nothing here knows Flask: give it a document, get the bytes.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import uharfbuzz
from fontTools.ttLib import TTFont
from fpdf import FPDF, FontFace
from fpdf.enums import (
    Align,
    MethodReturnValue,
    TableBordersLayout,
    TableHeadingsDisplay,
    VAlign,
    XPos,
    YPos,
)
from fpdf.fonts import HarfBuzzFont, SubsetMap, TTFFont

FONTS_DIR = Path(__file__).with_name("fonts")
FAMILY = "DejaVu"
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
# The creation date of a document rendered without one: a fixed moment, so that the same
# document always gives the same bytes (fpdf2 also derives the file /ID from it).
FIXED_CREATION = datetime(2000, 1, 1, tzinfo=UTC)

# Millimetres and points.
MARGIN = 18.0
BOTTOM_MARGIN = 20.0
GAP = 8.0
BODY_PT = 9.0
LINE = 4.6  # height of a body line (9 pt text)
INK = (28, 31, 36)
MUTED = (110, 116, 125)
RULE = (205, 209, 215)
SHADE = (239, 241, 244)
STAMP_INK = (21, 101, 192)
STAMP_PT = 11
DIGIT_SETS = ("۰۱۲۳۴۵۶۷۸۹", "٠١٢٣٤٥٦٧٨٩")


@dataclass(frozen=True)
class PdfDocument:
    """What an invoice or a receipt says, every string translated and formatted already."""

    title: str  # "Invoice No. INV-000042"
    direction: str  # "ltr" or "rtl"
    meta: tuple[tuple[str, str], ...]  # label/value pairs under the title: date, due date...
    parties: tuple[tuple[str, tuple[str, ...]], ...]  # (heading, lines): supplier, bill to
    columns: tuple[str, ...]  # table header; the last column holds amounts
    rows: tuple[tuple[str, ...], ...]  # formatted cells, as many as columns
    total: tuple[str, str]  # ("Total", "40 740,00 ₴")
    after_total: tuple[tuple[str, str], ...] = ()  # ("Including VAT 20%", "6 790,00 ₴")
    in_words: str | None = None  # "Сорок тисяч сімсот сорок гривень 00 копійок"
    notes: tuple[str, ...] = ()  # payment reference, "Pay by 2 December 2026"...
    stamp: str | None = None  # "PAID 24 November 2026", drawn prominently when set
    author: str = ""  # PDF metadata

    def __post_init__(self) -> None:
        if self.direction not in ("ltr", "rtl"):
            raise ValueError(f"direction must be 'ltr' or 'rtl', not {self.direction!r}")
        if len(self.columns) < 2:
            raise ValueError("a document's table needs a description and an amount column")
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(f"row {row!r} does not have {len(self.columns)} cells")


def render_pdf(document: PdfDocument, *, created: datetime | None = None) -> bytes:
    """The document as PDF bytes; ``created`` (default: a fixed moment) is its creation date.

    The same document and ``created`` always give the same bytes.
    """
    pdf = _new_pdf(document, created or FIXED_CREATION)
    page = _Page(pdf, rtl=document.direction == "rtl")
    pdf.add_page()
    _draw_heading(page, document)
    _draw_meta(page, document.meta)
    _draw_parties(page, document.parties)
    _draw_table(page, document)
    _draw_notes(page, document.notes)
    _draw_page_numbers(page, document)
    return bytes(pdf.output())


# Fonts --------------------------------------------------------------------------------------


@functools.cache
def _parsed_font(style: str) -> tuple[TTFFont, bytes, uharfbuzz.Face]:
    """The font of ``style`` parsed once per process: metrics, character map, HarfBuzz face.

    Parsing DejaVu (cmap and widths of ~6,000 glyphs) is the slow part of adding a font;
    the parsed object is only read afterwards, except for what ``_fresh_font`` replaces.
    """
    path = FONTS_DIR / FONT_FILES[style]
    scratch = FPDF()
    scratch.add_font(FAMILY, style, path)
    parsed = scratch.fonts[f"{FAMILY.lower()}{style}"]
    assert isinstance(parsed, TTFFont)
    parsed.ttfont.close()
    data = path.read_bytes()
    # A HarfBuzz face is immutable and thread-safe, and caches its shaping plans: shared.
    return parsed, data, uharfbuzz.Face(uharfbuzz.Blob(data))


def _fresh_font(pdf: FPDF, style: str) -> None:
    """Register the cached font of ``style`` with ``pdf``, with state of its own.

    A document's font keeps its own glyph subset, widths map (a defaultdict that grows on
    lookups) and missing-glyph list; fpdf2 subsets the fontTools object in place when it
    writes the file, so each document gets a fresh, lazily loaded one; and HarfBuzz fonts are
    per document too, since fpdf2 sets their size before each shaping. This leans on the
    attributes of fpdf2's TTFont (pinned at 2.8.9): check it again when upgrading fpdf2.
    """
    parsed, data, face = _parsed_font(style)
    font = copy.copy(parsed)
    font.i = len(pdf.fonts) + 1
    font.ttfont = TTFont(BytesIO(data), recalcTimestamp=False, lazy=True)
    font.cw = copy.copy(parsed.cw)
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font.subset = SubsetMap(font)
    font._hbfont = HarfBuzzFont(face)
    pdf.fonts[font.fontkey] = font


def _new_pdf(document: PdfDocument, created: datetime) -> FPDF:
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    for style in FONT_FILES:
        _fresh_font(pdf, style)
    pdf.set_text_shaping(use_shaping_engine=True, direction=document.direction)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(auto=True, margin=BOTTOM_MARGIN)
    pdf.c_margin = 0
    pdf.set_title(document.title)
    pdf.set_author(document.author)
    pdf.set_creator("Support portal")
    pdf.set_creation_date(created)
    pdf.set_font(FAMILY, "", BODY_PT)
    pdf.set_text_color(*INK)
    pdf.set_draw_color(*RULE)
    pdf.set_line_width(0.2)
    return pdf


# Layout -------------------------------------------------------------------------------------


class _Page:
    """The pdf with directions: offsets counted from the start side (left, or right in RTL)."""

    def __init__(self, pdf: FPDF, rtl: bool) -> None:
        self.pdf = pdf
        self.rtl = rtl
        self.width = pdf.epw
        self.start = Align.R if rtl else Align.L
        self.end = Align.L if rtl else Align.R

    def x(self, offset: float, width: float) -> float:
        """The left edge of a box ``width`` wide, ``offset`` from the start margin."""
        if self.rtl:
            return self.pdf.w - self.pdf.r_margin - offset - width
        return self.pdf.l_margin + offset

    def ordered(self, items: Sequence) -> tuple:
        """``items`` from left to right on the page: reversed in RTL."""
        return tuple(reversed(items)) if self.rtl else tuple(items)

    def text(
        self,
        offset: float,
        width: float,
        text: str,
        *,
        style: str = "",
        size: float = BODY_PT,
        color: tuple[int, int, int] = INK,
        line: float = LINE,
        align: Align | None = None,
    ) -> float:
        """Write wrapped ``text`` in a box from the current y; return the y below it."""
        pdf = self.pdf
        pdf.set_font(FAMILY, style, size)
        pdf.set_text_color(*color)
        pdf.set_x(self.x(offset, width))
        pdf.multi_cell(
            width, line, text, align=align or self.start, new_x=XPos.LEFT, new_y=YPos.NEXT
        )
        return pdf.get_y()

    def width_of(self, text: str, style: str = "", size: float = BODY_PT) -> float:
        self.pdf.set_font(FAMILY, style, size)
        return self.pdf.get_string_width(text)


def _draw_heading(page: _Page, document: PdfDocument) -> None:
    pdf = page.pdf
    top = pdf.get_y()
    title_width = page.width
    stamp_bottom = top
    if document.stamp:
        stamp_width = min(page.width_of(document.stamp, "B", STAMP_PT) + 10, page.width * 0.5)
        stamp_bottom = _draw_stamp(page, document.stamp, top, stamp_width) + 2
        title_width -= stamp_width + GAP
        pdf.set_y(top)
    bottom = page.text(0, title_width, document.title, style="B", size=17, line=7.5)
    pdf.set_y(max(bottom, stamp_bottom) + 3)


def _draw_stamp(page: _Page, text: str, top: float, width: float) -> float:
    """A rubber stamp at the end side of the title, slightly turned; return its bottom."""
    pdf = page.pdf
    pdf.set_font(FAMILY, "B", STAMP_PT)
    inner = width - 8
    lines = pdf.multi_cell(inner, 5.5, text, dry_run=True, output=MethodReturnValue.LINES)
    height = len(lines) * 5.5 + 5
    left = page.x(page.width - width, width)
    angle = -6 if page.rtl else 6
    with pdf.local_context(), pdf.rotation(angle, x=left + width / 2, y=top + height / 2):
        pdf.set_draw_color(*STAMP_INK)
        pdf.set_line_width(0.7)
        pdf.rect(left, top, width, height, round_corners=True, corner_radius=1.5)
        pdf.set_line_width(0.25)
        pdf.rect(left + 1, top + 1, width - 2, height - 2, round_corners=True)
        pdf.set_text_color(*STAMP_INK)
        pdf.set_xy(left + 4, top + 2.5)
        pdf.multi_cell(inner, 5.5, text, align=Align.C)
    return top + height


def _draw_meta(page: _Page, meta: tuple[tuple[str, str], ...]) -> None:
    if not meta:
        return
    pdf = page.pdf
    label_width = min(max(page.width_of(label) for label, _ in meta) + 4, page.width * 0.4)
    value_width = page.width * 0.55
    for label, value in meta:
        top = pdf.get_y()
        below_label = page.text(0, label_width, label, color=MUTED)
        pdf.set_y(top)
        below_value = page.text(label_width, value_width, value)
        pdf.set_y(max(below_label, below_value))
    pdf.ln(5)


def _draw_parties(page: _Page, parties: tuple[tuple[str, tuple[str, ...]], ...]) -> None:
    """The parties side by side, at most three abreast; more start a new band."""
    pdf = page.pdf
    for first in range(0, len(parties), 3):
        band = parties[first : first + 3]
        width = (page.width - GAP * (len(band) - 1)) / len(band)
        top = pdf.get_y()
        bottom = top
        for index, (heading, lines) in enumerate(band):
            pdf.set_y(top)
            offset = index * (width + GAP)
            below = page.text(offset, width, heading, style="B", size=8, color=MUTED)
            pdf.set_y(below + 0.8)
            for number, line in enumerate(lines):
                below = page.text(offset, width, line, style="B" if number == 0 else "")
            bottom = max(bottom, below)
        pdf.set_y(bottom + 6)


def _column_widths(page: _Page, document: PdfDocument, padding: float) -> list[float]:
    """Widths in reading order: every column but the first fits its widest cell (capped),
    the first, the description, takes what is left and wraps."""
    widths = [0.0]
    for column in range(1, len(document.columns)):
        cells = [document.columns[column]] + [row[column] for row in document.rows]
        needed = [page.width_of(cells[0], "B")] + [page.width_of(cell) for cell in cells[1:]]
        if column == len(document.columns) - 1:
            needed.append(page.width_of(document.total[1], "B", 10))
        widest = max(needed)
        widths.append(min(widest + 2 * padding + 0.5, page.width * 0.3))
    rest = page.width - sum(widths)
    if rest < page.width * 0.35:  # squeeze the other columns to leave the description room
        scale = page.width * 0.65 / sum(widths)
        widths = [width * scale for width in widths]
        rest = page.width * 0.35
    widths[0] = rest
    return widths


def _draw_table(page: _Page, document: PdfDocument) -> None:
    pdf = page.pdf
    padding = 2.0
    count = len(document.columns)
    widths = _column_widths(page, document, padding)
    aligns = [page.start] + [page.end] * (count - 1)
    pdf.set_font(FAMILY, "", BODY_PT)
    pdf.set_text_color(*INK)
    with pdf.table(
        width=page.width,
        col_widths=page.ordered(widths),
        text_align=page.ordered(aligns),
        v_align=VAlign.T,
        borders_layout=TableBordersLayout.HORIZONTAL_LINES,
        headings_style=FontFace(emphasis="B", size_pt=8.5, color=MUTED, fill_color=SHADE),
        line_height=LINE,
        padding=(1.8, padding),
        repeat_headings=TableHeadingsDisplay.ON_TOP_OF_EVERY_PAGE,
    ) as table:
        table.row(page.ordered(document.columns))
        for cells in document.rows:
            table.row(page.ordered(cells))
        label, amount = document.total
        total = table.row(style=FontFace(emphasis="B", size_pt=10, fill_color=SHADE))
        cells = [(label, count - 1), (amount, 1)]
        for text, span in page.ordered(cells):
            total.cell(text, align=page.end, colspan=span)
        for label, amount in document.after_total:
            row = table.row(style=FontFace(size_pt=BODY_PT))
            for text, span in page.ordered([(label, count - 1), (amount, 1)]):
                row.cell(text, align=page.end, colspan=span)
    pdf.ln(3)
    if document.in_words:
        pdf.set_y(page.text(0, page.width, document.in_words, style="B") + 1)
    pdf.ln(3)


def _draw_notes(page: _Page, notes: tuple[str, ...]) -> None:
    for note in notes:
        page.pdf.set_y(page.text(0, page.width, note, color=MUTED) + 1)


def _draw_page_numbers(page: _Page, document: PdfDocument) -> None:
    """On a document of several pages, the title and "page/pages" at the foot of each page,
    in the digits its total is written in (Persian digits for a Persian invoice)."""
    pdf = page.pdf
    pages = pdf.pages_count
    if pages < 2:
        return
    digits = next((d for d in DIGIT_SETS if any(c in d for c in document.total[1])), "0123456789")
    local = str.maketrans("0123456789", digits)
    pdf.set_auto_page_break(auto=False)
    for index in range(1, pages + 1):
        pdf.page = index
        numbering = f"{index}/{pages}".translate(local)
        width = page.width_of(numbering, size=7.5) + 2
        pdf.set_y(pdf.h - 12)
        page.text(0, page.width - width - GAP, document.title, size=7.5, color=MUTED)
        pdf.set_y(pdf.h - 12)
        page.text(page.width - width, width, numbering, size=7.5, color=MUTED, align=page.end)
    pdf.page = pages
