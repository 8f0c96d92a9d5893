"""The PDF renderer of invoices and receipts, read back with pypdf, in the five languages.

Each language has one invoice below, its strings written as the portal formats them (no-break
spaces in amounts, Persian digits and Jalali dates in Persian). The tests render it and read
the text back out of the PDF: what a reader sees must be what the document says.

Persian: fpdf2 shapes the text with HarfBuzz and writes each right-to-left run in visual order,
so pypdf reads a Persian run back right to left: "جمع کل" comes out as "لک عمج". Each glyph
maps back to its letter(s) (a shaped form to its base letter, the lam-alef ligature to both
letters), so a run read back reversed is the logical text again; ``reads`` accepts a Persian
string found in either order, and Latin codes and digits inside it (left-to-right runs) come
out in reading order.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace
from datetime import UTC, datetime
from io import BytesIO

import pytest
from pypdf import PdfReader

from portal.billing.pdf import PdfDocument, render_pdf

CREATED = datetime(2026, 11, 24, 9, 15, tzinfo=UTC)

DOCUMENTS = {
    "en": PdfDocument(
        title="Invoice No. INV-000042",
        direction="ltr",
        meta=(
            ("Date", "24 November 2026"),
            ("Due date", "2 December 2026"),
            ("Order", "ORD-000042"),
            ("Catalog version", "kbs 2026-11"),
        ),
        parties=(
            (
                "Supplier",
                (
                    "KBS Software LLC",
                    "Tax No. 41234567",
                    "12 Khreshchatyk St, Kyiv 01001, Ukraine",
                    "IBAN UA21 3223 1300 0002 6007 2335 6600 1",
                    "JSC CB PrivatBank",
                ),
            ),
            ("Bill to", ("Romashka Ltd", "Tax No. 38765432", "5 Sadova St, Lviv 79000")),
        ),
        columns=("Description", "Amount"),
        rows=(
            (
                "OPTIMA support plan, 12 months, 3 workstations, office hours with a reaction "
                "within one working day (1 December 2026 to 30 November 2027)",
                "34,200.00\u00a0UAH",
            ),
            ("Priority reaction add-on", "6,540.00\u00a0UAH"),
        ),
        total=("Total", "40,740.00\u00a0UAH"),
        notes=("Payment reference: INV-000042", "Pay by 2 December 2026"),
        author="KBS Software LLC",
    ),
    "ru": PdfDocument(
        title="Счёт № INV-000042",
        direction="ltr",
        meta=(
            ("Дата", "24 ноября 2026"),
            ("Оплатить до", "2 декабря 2026"),
            ("Заказ", "ORD-000042"),
            ("Версия каталога", "iiko 2026-11"),
        ),
        parties=(
            (
                "Поставщик",
                ("ООО «Айко-Сервис»", "ИНН 7701234567", "Москва, ул. Тверская, д. 7"),
            ),
            ("Плательщик", ("ООО «Ромашка»", "ИНН 5501234567", "Омск, ул. Ленина, д. 12")),
        ),
        columns=("Наименование", "Кол-во", "Сумма"),
        rows=(
            ("Сопровождение iiko, тариф «Оптима», 12 месяцев", "3", "34\u00a0200,00\u00a0₽"),
            ("Выезд инженера", "1", "6\u00a0540,00\u00a0₽"),
        ),
        total=("Итого", "40\u00a0740,00\u00a0₽"),
        notes=("Назначение платежа: INV-000042",),
    ),
    "uk": PdfDocument(
        title="Рахунок № INV-000042",
        direction="ltr",
        meta=(("Дата", "24 листопада 2026"), ("Сплатити до", "2 грудня 2026")),
        parties=(
            ("Постачальник", ("ТОВ «КБС Софт»", "ЄДРПОУ 41234567", "Київ, вул. Хрещатик, 12")),
            ("Платник", ("ТОВ «Ромашка»", "ЄДРПОУ 38765432", "Львів, вул. Садова, 5")),
        ),
        columns=("Опис", "Сума"),
        rows=(
            ("Тариф OPTIMA, 12 місяців, 3 робочі місця", "34\u00a0200,00\u00a0₴"),
            ("Пріоритетна реакція", "6\u00a0540,00\u00a0₴"),
        ),
        total=("Разом", "40\u00a0740,00\u00a0₴"),
        notes=("Призначення платежу: INV-000042", "Сплатіть до 2 грудня 2026"),
        stamp="СПЛАЧЕНО 24 листопада 2026",
    ),
    "kk": PdfDocument(
        title="Шот № INV-000042",
        direction="ltr",
        meta=(("Күні", "24 қараша 2026"), ("Төлеу мерзімі", "2 желтоқсан 2026")),
        parties=(
            (
                "Жеткізуші",
                ("«Кристалл Сервис» ЖШС", "БСН 123456789012", "Алматы, Абай даңғылы, 10"),
            ),
            ("Төлеуші", ("«Қаһарман» ЖШС", "БСН 210987654321", "Астана, Жібек жолы көшесі, 5")),
        ),
        columns=("Сипаттамасы", "Сомасы"),
        rows=(
            ("OPTIMA қолдау жоспары, 12 ай, 3 жұмыс орны", "34\u00a0200,00\u00a0₸"),
            ("Әрекет етудің басымдығы", "6\u00a0540,00\u00a0₸"),
        ),
        total=("Барлығы", "40\u00a0740,00\u00a0₸"),
        notes=("Төлем мақсаты: INV-000042", "2 желтоқсан 2026 дейін төлеңіз"),
        stamp="ТӨЛЕНДІ 24 қараша 2026",
    ),
    "fa": PdfDocument(
        title="صورتحساب شماره INV-000042",
        direction="rtl",
        meta=(
            ("تاریخ", "۳ آذر ۱۴۰۵"),
            ("سررسید", "۱۱ آذر ۱۴۰۵"),
            ("سفارش", "ORD-000042"),
            ("نسخه کاتالوگ", "iotex 2026-11"),
        ),
        parties=(
            ("فروشنده", ("شرکت آیوتکس", "شناسه ملی ۱۰۱۰۱۲۳۴۵۶۷", "تهران، خیابان ولیعصر، پلاک ۱۲")),
            ("خریدار", ("شرکت پارس داده", "شناسه ملی ۱۰۳۲۰۰۰۰۰۰۰", "اصفهان، خیابان چهارباغ")),
        ),
        columns=("شرح", "مبلغ"),
        rows=(
            ("طرح پشتیبانی OPTIMA، ۱۲ ماه، ۳ ایستگاه کاری", "۳۴۲٬۰۰۰٬۰۰۰\u00a0ریال"),
            ("افزونه واکنش فوری", "۶۵٬۴۰۰٬۰۰۰\u00a0ریال"),
        ),
        total=("جمع کل", "۴۰۷٬۴۰۰٬۰۰۰\u00a0ریال"),
        notes=("شناسه پرداخت: INV-000042", "مهلت پرداخت: ۱۱ آذر ۱۴۰۵"),
        stamp="پرداخت شد ۳ آذر ۱۴۰۵",
    ),
}

LANGUAGES = {
    "en": "an English invoice",
    "ru": "a Russian invoice",
    "uk": "a Ukrainian invoice",
    "kk": "a Kazakh invoice",
    "fa": "a Persian invoice",
}
PERSIAN_NUMBER = re.compile(r"[۰-۹٬٫]+")
PERSIAN_WORD_BREAKS = re.compile(r"[\s،:؛]+")


def rendered(document, created=CREATED):
    return render_pdf(document, created=created)


def read(pdf_bytes):
    return PdfReader(BytesIO(pdf_bytes))


def squeezed(text):
    """Whitespace (no-break spaces included, line breaks of wrapped cells) as single spaces."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def normalised(extracted):
    """Text pypdf extracted, squeezed, with its Persian numbers turned back: pypdf reverses
    the characters of the Arabic block (U+0600-U+06FF) to undo the visual order of a
    right-to-left run, Persian digits included, although a number is written left to right:
    "۱۴۰۵" comes back as "۵۰۴۱"."""
    return squeezed(PERSIAN_NUMBER.sub(lambda number: number.group()[::-1], extracted))


def text_of(pdf_bytes, page=None):
    pages = read(pdf_bytes).pages
    chosen = pages if page is None else [pages[page]]
    return normalised(" ".join(p.extract_text() for p in chosen))


def reads(text, wanted, direction):
    """Whether ``wanted`` can be read in the extracted ``text``.

    Left to right: the string itself, as written. Right to left: pypdf puts each run back in
    reading order, but glues neighbouring runs in an order of its own (a Latin code inside a
    Persian phrase, the cells of a row), so each word must be there, in reading order."""
    if direction == "ltr":
        return squeezed(wanted) in text
    words = [word for word in PERSIAN_WORD_BREAKS.split(wanted) if word]
    return all(word in text for word in words)


def unread(pdf_bytes, wanted, direction):
    text = text_of(pdf_bytes)
    return [string for string in wanted if not reads(text, string, direction)]


def what_it_says(document):
    """The title, every cell of every row, the total's label and amount."""
    return [document.title, *(cell for row in document.rows for cell in row), *document.total]


@pytest.mark.parametrize("language", LANGUAGES, ids=[f"{v} is a PDF" for v in LANGUAGES.values()])
def test_a_rendered_document_is_a_pdf_file(language):
    assert rendered(DOCUMENTS[language]).startswith(b"%PDF-")


@pytest.mark.parametrize(
    "language",
    LANGUAGES,
    ids=[f"{v} reads back its title, rows and total" for v in LANGUAGES.values()],
)
def test_the_text_read_back_holds_title_rows_and_total(language):
    document = DOCUMENTS[language]

    missing = unread(rendered(document), what_it_says(document), document.direction)

    assert missing == []


@pytest.mark.parametrize(
    "language",
    LANGUAGES,
    ids=[f"{v} reads back its meta, parties, notes and stamp" for v in LANGUAGES.values()],
)
def test_the_text_read_back_holds_meta_parties_notes_and_stamp(language):
    document = DOCUMENTS[language]
    wanted = [text for pair in document.meta for text in pair]
    wanted += [text for heading, lines in document.parties for text in (heading, *lines)]
    wanted += [*document.notes, *([document.stamp] if document.stamp else [])]

    assert unread(rendered(document), wanted, document.direction) == []


@pytest.mark.parametrize(
    ("language", "total_side"),
    [
        pytest.param("en", "right", id="English amounts sit right of their labels"),
        pytest.param("ru", "right", id="Russian amounts sit right of their labels"),
        pytest.param("uk", "right", id="Ukrainian amounts sit right of their labels"),
        pytest.param("kk", "right", id="Kazakh amounts sit right of their labels"),
        pytest.param("fa", "left", id="Persian amounts sit left of their labels (mirrored)"),
    ],
)
def test_amounts_sit_at_the_end_side_of_the_line(language, total_side):
    document = DOCUMENTS[language]
    where = positions(rendered(document))
    pairs = [document.total, (document.rows[-1][0], document.rows[-1][-1])]

    sides = {
        "right" if where[squeezed(amount)] > where[squeezed(label)] else "left"
        for label, amount in pairs
    }

    assert sides == {total_side}


def positions(pdf_bytes):
    """Where each piece of text of the first page starts: {normalised text: x in points}."""
    found = {}

    def visit(text, cm, tm, font, size):
        if text.strip():
            found.setdefault(normalised(text), tm[4] * cm[0] + cm[4])

    read(pdf_bytes).pages[0].extract_text(visitor_text=visit)
    return found


def test_persian_letters_are_drawn_joined():
    # A shaped letter takes the glyph of its place in the word (initial, medial, final or
    # isolated), and each glyph drawn gets its own code in the font's ToUnicode map; unshaped,
    # a letter would be one glyph, so one code, wherever it stands.
    codes_per_letter = {}
    for font in fonts_of(rendered(DOCUMENTS["fa"])):
        cmap = font["/ToUnicode"].get_object().get_data().decode()
        for code, letter in re.findall(r"<([0-9A-F]{4})> <(06[0-9A-F]{2})>", cmap):
            codes_per_letter.setdefault((font["/BaseFont"], letter), set()).add(code)

    in_several_forms = [letter for letter, codes in codes_per_letter.items() if len(codes) > 1]

    assert len(in_several_forms) >= 5


def fonts_of(pdf_bytes):
    return [
        reference.get_object()
        for page in read(pdf_bytes).pages
        for reference in page["/Resources"]["/Font"].values()
    ]


@pytest.mark.parametrize(
    "language",
    LANGUAGES,
    ids=[f"{v} embeds DejaVu Sans and uses no other font" for v in LANGUAGES.values()],
)
def test_the_fonts_are_embedded_dejavu(language):
    fonts = fonts_of(rendered(DOCUMENTS[language]))
    described = {
        (
            str(font["/BaseFont"]),
            str(font["/Subtype"]),
            "/FontFile2" in font["/DescendantFonts"][0].get_object()["/FontDescriptor"],
        )
        for font in fonts
    }

    assert {name.split("+")[-1] for name, _, _ in described} <= {
        "DejaVuSansBook",
        "DejaVuSansBold",
    }
    assert {(subtype, embedded) for _, subtype, embedded in described} == {("/Type0", True)}


def sixty_rows(document):
    base, *_, amount = document.rows[-1]
    middle = document.rows[-1][1:-1]
    return replace(
        document, rows=tuple((f"{base} #{n:02d}", *middle, amount) for n in range(1, 61))
    )


@pytest.mark.parametrize(
    "language",
    ["en", "kk", "fa"],
    ids=[
        "sixty English rows run over pages, each page headed by the columns",
        "sixty Kazakh rows run over pages, each page headed by the columns",
        "sixty Persian rows run over pages, each page headed by the columns",
    ],
)
def test_a_long_table_runs_over_pages_and_repeats_its_header(language):
    document = sixty_rows(DOCUMENTS[language])
    pdf_bytes = rendered(document)
    pages = len(read(pdf_bytes).pages)

    headed = [
        all(
            reads(text_of(pdf_bytes, page), column, document.direction)
            for column in document.columns
        )
        for page in range(pages)
    ]
    amounts = text_of(pdf_bytes).count(squeezed(document.rows[0][-1]))

    assert pages >= 2
    assert headed == [True] * pages
    assert amounts == 60
    assert reads(text_of(pdf_bytes, pages - 1), document.total[0], document.direction)


@pytest.mark.parametrize(
    ("created", "expected"),
    [
        pytest.param(CREATED, CREATED, id="a given creation date is the document's"),
        pytest.param(None, datetime(2000, 1, 1, tzinfo=UTC), id="none given, a fixed one is"),
    ],
)
def test_the_same_document_renders_to_the_same_bytes(created, expected):
    first = render_pdf(DOCUMENTS["uk"], created=created)
    second = render_pdf(DOCUMENTS["uk"], created=created)

    assert first == second
    assert read(first).metadata.creation_date == expected


def test_the_metadata_carries_title_and_author():
    metadata = read(rendered(DOCUMENTS["en"])).metadata

    assert (metadata.title, metadata.author) == ("Invoice No. INV-000042", "KBS Software LLC")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param({"direction": "up"}, "direction", id="a direction other than ltr/rtl"),
        pytest.param({"columns": ("Amount",)}, "column", id="a table of one column"),
        pytest.param({"rows": (("only one cell",),)}, "cells", id="a row short of a cell"),
    ],
)
def test_a_malformed_document_is_refused(change, message):
    with pytest.raises(ValueError, match=message):
        replace(DOCUMENTS["en"], **change)
