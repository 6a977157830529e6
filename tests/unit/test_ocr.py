"""Pure OCR decisions: option checks, render plans, word layout, symbol fixes, format sniffing."""

from __future__ import annotations

import pytest

from cadextract.extractors import raster, textfields
from cadextract.extractors.base import BadOption
from cadextract.extractors.ocr import layout, rules, run, settings
from cadextract.extractors.ocr.layout import Word
from cadextract.files import detect_bytes


def w(text: str, x0: float, top: float, x1: float, bottom: float) -> Word:
    return Word(text, x0, top, x1, bottom, 0.9)


@pytest.mark.parametrize(
    ("raw", "fixed"),
    [
        ("012 H7", "Ø12 H7"),  # Ø read as a zero before a fit class
        ("020±0.1", "Ø20±0.1"),
        ("O8", "Ø8"),
        ("@12.5", "Ø12.5"),
        ("Φ20", "Ø20"),
        ("10F2", "1 OF 2"),
        ("SHEET 1 0F 2", "SHEET 1 OF 2"),
        ("SHEET1OF1", "SHEET1 OF 1"),  # OCR drops narrow gaps
        ("1VON1", "1 VON 1"),
        ("2x 06.60 ±0.05", "2x Ø6.60 ±0.05"),  # a count first; a decimal with a leading zero
        ("05.8-5.85", "Ø5.8-5.85"),
        ("01.02.2026", "01.02.2026"),  # a date stays a date
        # left alone: real numbers and words
        ("0.5", "0.5"),
        ("05", "05"),
        ("012", "012"),
        ("2026-11-28", "2026-11-28"),
        ("100F", "100F"),
    ],
)
def test_normalise_text(raw: str, fixed: str) -> None:
    assert layout.normalise_text(raw) == fixed


def test_page_text_reading_order_and_skew() -> None:
    words = [
        w("B", 50, 101, 60, 111),  # slightly lower than A: same line
        w("A", 10, 100, 20, 110),
        w("second", 10, 130, 60, 140),
        w("C", 80, 99, 90, 109),
    ]
    assert layout.page_text(words) == "A B C\nsecond"


def test_suppress_contained_drops_cut_copies() -> None:
    boxes = [(0, 0, 100, 10), (60, 0, 100, 10), (200, 0, 220, 10), (0, 50, 10, 60)]
    assert layout.suppress_contained(boxes) == [0, 2, 3]


def test_mean_confidence_weights_characters() -> None:
    words = [Word("AAAA", 0, 0, 1, 1, 1.0), Word("B", 0, 0, 1, 1, 0.5)]
    assert layout.mean_confidence(words) == pytest.approx(0.9)
    assert layout.mean_confidence([]) is None


def test_fields_from_words_by_position() -> None:
    words = [
        # a title block laid out like ISO 7200: labels on top of their cells
        w("DRAWN", 100, 60, 140, 70),
        w("TITLE:", 300, 40, 340, 50),
        w("Weird_Gripper_Cam_", 300, 60, 420, 70),  # under TITLE:, right of DRAWN
        w("Adapter", 300, 72, 350, 82),  # the title's second line
        w("DWG NO.", 100, 100, 160, 110),
        w("A4", 300, 100, 320, 110),
        w("UR10_29.20", 100, 115, 180, 125),
        # label cell + value cell on one line, and label + value in one cell
        w("SCALE", 400, 200, 440, 210),
        w("1:5", 520, 200, 540, 210),
        w("SHEET 1 OF 1", 600, 200, 680, 210),
        # tesseract gives single words: the two words of a label are joined again
        w("DRAWN", 100, 300, 140, 310),
        w("BY", 145, 300, 160, 310),
        w("J.", 300, 300, 310, 310),
        w("SMITH", 313, 300, 350, 310),
    ]
    found = layout.fields_from_words(words, textfields.LABEL_RE, textfields.valid)
    # a line ending in "_" continues the word (as the vector parser joins it)
    assert found["title"] == ("Weird_Gripper_Cam_Adapter", "ocr_below", "TITLE")
    # "A4" has no digit-dash shape of a drawing number: the cell below is taken
    assert found["drawing_number"] == ("UR10_29.20", "ocr_below", "DWG NO.")
    assert found["scale"] == ("1:5", "ocr_right", "SCALE")
    assert found["sheet"] == ("1 OF 1", "ocr_cell", "SHEET")
    # the first DRAWN's right neighbour is the title's value: not taken for drawn_by
    assert found["drawn_by"] == ("J. SMITH", "ocr_right", "DRAWN BY")


def test_cells_split_at_wide_gaps() -> None:
    got = layout.cells([w("DRAWN", 0, 0, 40, 10), w("BY", 45, 0, 60, 10), w("X", 200, 0, 210, 10)])
    assert [c.text for c in got] == ["DRAWN BY", "X"]


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        ({"ocr": "sometimes"}, "ocr="),
        ({"ocr_engine": "easyocr"}, "ocr_engine="),
        ({"ocr_dpi": 20}, "ocr_dpi="),
        ({"ocr_dpi": "high"}, "ocr_dpi="),
        ({"ocr_lang": "eng;rm -rf"}, "ocr_lang="),
        ({"ocr_max_pixels": 5}, "ocr_max_pixels="),
    ],
)
def test_bad_options_are_named(options: dict[str, object], needle: str) -> None:
    message = settings.check(options)
    assert message is not None and needle in message
    with pytest.raises(BadOption, match=needle):
        settings.parse(options)


def test_options_parse() -> None:
    s = settings.parse(
        {"ocr": "ALWAYS", "ocr_engine": "tesseract", "ocr_dpi": 300, "ocr_lang": "eng+deu"},
        memory_limit_mb=1024,
    )
    assert (s.mode, s.engine, s.dpi, s.lang) == (settings.OcrMode.ALWAYS, "tesseract", 300, "eng+deu")
    # a quarter of 1 GiB at 4 bytes a pixel, below the 100 Mpixel default
    assert s.pixel_budget == 1024 * 1024 * 1024 // 16
    assert settings.parse({"ocr": False}).mode is settings.OcrMode.NEVER  # `-o ocr=false`
    assert settings.check({}) is None


def test_render_plan_keeps_small_pages_and_shrinks_huge_ones() -> None:
    a3 = run.plan(420 / 25.4, 297 / 25.4, 200, 100_000_000)
    assert (a3.dpi, a3.reduced) == (200, False)
    huge = run.plan(200, 200, 300, 50_000_000)  # a 5 m x 5 m "page"
    assert huge.reduced and huge.pixels <= 50_000_000
    assert huge.dpi == pytest.approx(300 * (50_000_000 / (200 * 300) ** 2) ** 0.5)


def test_raster_target_size_and_decode_cost() -> None:
    ocr = settings.parse({}, memory_limit_mb=4096)
    # a 600 dpi scan is read at the OCR resolution (200 dpi): a third of each side
    assert raster.target_size(6000, 3000, 600, ocr) == (2000, 1000)
    # unknown DPI, small: as is
    assert raster.target_size(800, 600, None, ocr) == (800, 600)
    # 400 Mpixel: down to the 100 Mpixel budget
    tw, th = raster.target_size(20_000, 20_000, None, ocr)
    assert tw * th <= ocr.pixel_budget and tw == th
    assert raster.decode_bytes(20_000, 20_000, "RGB") == 1_200_000_000
    assert raster.decode_bytes(20_000, 20_000, "L", draft_factor=8) == 2500 * 2500


@pytest.mark.parametrize(
    ("head", "fmt"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "raster"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "raster"),
        (b"II*\x00\x08\x00\x00\x00", "raster"),
        (b"MM\x00*\x00\x00\x00\x08", "raster"),
        (b"GIF89a", None),
    ],
)
def test_image_signatures(head: bytes, fmt: str | None) -> None:
    assert detect_bytes(head) == fmt


def test_ruled_lines_of_a_scan_are_found_and_letters_are_not() -> None:
    """A grey ruled cell (CAD frames are light grey) and a black letter 'I' inside a word box."""
    from PIL import Image, ImageDraw

    image = Image.new("L", (400, 200), 255)
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, 380, 180), outline=200, width=2)  # light grey frame
    draw.line((200, 20, 200, 180), fill=200, width=2)  # the rule between two cells
    draw.rectangle((60, 60, 63, 100), fill=0)  # a tall letter stroke: inside its word's box
    found = rules.ruled_lines(image, 200)
    assert any(s.horizontal and s.x1 - s.x0 > 300 for s in found)
    assert any(s.vertical and abs(s.x0 - 200.5) <= 1.5 and s.y1 - s.y0 > 140 for s in found)
    letter = [s for s in found if s.vertical and 59 <= s.x0 <= 64]
    assert letter  # the stroke is long enough to look like a rule …
    kept = rules.outside_words(found, [w("IN", 55, 55, 90, 105)])
    assert not [s for s in kept if s.vertical and 59 <= s.x0 <= 64]  # … but it lies inside a word
    assert len(kept) == len(found) - len(letter)
    # in page units (PDF points of a 200 dpi rendering)
    assert rules.scaled(kept, 72 / 200)[0].x1 <= 400 * 72 / 200


def test_scan_title_block_is_read_from_its_ruled_cells() -> None:
    """OCR words plus the rules found in the scan: the parser's ruled title block (same_cell)."""
    from cadextract.extractors.drawing import parse_sheet
    from cadextract.extractors.drawing.model import Segment
    from cadextract.extractors.ocr.sheet import ocr_sheet

    # a 4-cell block at the bottom right of a 1000 x 750 sheet; labels glued as OCR reads them
    rules_ = [
        Segment(600, 550, 1000, 550),
        Segment(600, 620, 1000, 620),
        Segment(600, 690, 1000, 690),
        Segment(600, 740, 1000, 740),
        Segment(600, 550, 600, 740),
        Segment(800, 690, 800, 740),
        Segment(1000, 550, 1000, 740),
    ]
    words = [
        w("TITLE:", 605, 555, 640, 565),
        w("Micro-Vu Turm", 650, 570, 900, 600),
        w("DWGNO.", 605, 625, 640, 635),
        w("Micro_Vu-4.20", 620, 640, 780, 670),
        w("SCALE:2:1", 605, 700, 660, 710),
        w("SHEET1 OF 1", 805, 700, 880, 710),
    ]
    notes = parse_sheet(ocr_sheet(words, 1000, 750, 1, [], rules_))
    got = {k: (f.value, f.method) for k, f in notes.title_block.items()}
    assert got["title"] == ("Micro-Vu Turm", "same_cell")
    assert got["drawing_number"] == ("Micro_Vu-4.20", "same_cell")
    assert got["scale"] == ("2:1", "same_cell")
    assert got["sheet"] == ("1 OF 1", "same_cell")
    # without the rules no cell is known: the parser finds no title block
    assert parse_sheet(ocr_sheet(words, 1000, 750, 1)).title_block == {}


def test_page_fields_fill_what_the_ruled_block_lacks_on_a_scan() -> None:
    from cadextract.extractors.drawing.model import Annotations, TitleField
    from cadextract.extractors.pagefacts import page_fields

    notes = Annotations(title_block={"scale": TitleField("2:1", "SCALE", "same_cell", 1, None)})
    words = [w("DWG NO.", 100, 100, 160, 110), w("AB-12", 100, 115, 160, 125), w("A3", 300, 100, 320, 110)]
    got = page_fields(notes, [], "", words)
    assert got["scale"] == ("2:1", "same_cell", "SCALE")  # the ruled block wins
    assert got["drawing_number"] == ("AB-12", "ocr_below", "DWG NO.")  # the words fill the gap
    # a vector page with a ruled block keeps it alone (its text lines are not guessed from)
    assert set(page_fields(notes, [], "DWG NO: XY-1", None)) == {"scale"}
    assert page_fields(Annotations(), [], "DWG NO: XY-1", None)["drawing_number"][0] == "XY-1"


def test_a_sheet_size_is_never_a_drawing_number() -> None:
    assert not textfields.valid("drawing_number", "A3")
    assert textfields.valid("drawing_number", "A3-100")


def test_a_run_across_a_cell_rule_is_cut_there() -> None:
    from cadextract.extractors.drawing.model import Segment

    wall = Segment(150, 0, 150, 40)  # the rule between the drawing-number and the size cells
    got = rules.split_at_rules([w("AB-12.19 A4", 20, 10, 170, 30)], [wall])
    assert [x.text for x in got] == ["AB-12.19", "A4"]
    assert got[0].x1 <= 150 <= got[1].x0
    # no rule inside the box, or a single word: left whole
    assert [x.text for x in rules.split_at_rules([w("AB-12.19 A4", 200, 10, 350, 30)], [wall])] == [
        "AB-12.19 A4"
    ]
    assert len(rules.split_at_rules([w("AB-12.19", 20, 10, 170, 30)], [wall])) == 1
