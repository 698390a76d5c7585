import io
import time
from datetime import date
from decimal import Decimal

import pypdf
import pypdfium2
import zxingcpp
from fontTools.ttLib import TTFont

from courses.certificates.pdf import FONT_PATH, CertificateDocument, missing_glyphs, qr_matrix, render_certificate_pdf

RARE_NAME_CHARACTERS = "鑫犇淼喆堃燚昇垚焱骉淼磊森鑫曦琰璟玥珺"


def gb2312_characters() -> list[str]:
    chars = []
    for lead in range(0xA1, 0xF8):
        for trail in range(0xA1, 0xFF):
            try:
                chars.append(bytes([lead, trail]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return chars


def document(**overrides) -> CertificateDocument:
    fields = {
        "holder_name": "欧阳鑫犇", "course_title": "志愿者上岗培训", "hours": Decimal("3.0"),
        "completed_on": date(2026, 3, 1), "issued_on": date(2026, 3, 2), "number": "LA-2026-000123",
        "issuer_name": "联动学堂", "signatory_name": "林明远", "signatory_title": "联动学堂培训中心主任",
        "verify_url": "http://127.0.0.1:8000/certificates/verify/AbCdEfGhIjKlMnOpQrStUv/",
    }
    fields.update(overrides)
    return CertificateDocument(**fields)


def test_font_has_a_glyph_for_every_gb2312_character():
    chars = gb2312_characters()
    assert len(chars) == 7445
    cmap = TTFont(FONT_PATH).getBestCmap()
    missing = [c for c in chars if ord(c) not in cmap]
    assert missing == []
    assert all(ord(c) in cmap for c in RARE_NAME_CHARACTERS)
    assert missing_glyphs("".join(chars) + RARE_NAME_CHARACTERS + "ABCxyz0123") == []


def test_missing_glyphs_names_what_the_font_cannot_draw():
    assert missing_glyphs("王𠀀") == ["𠀀"]  # CJK Extension B: outside GBK


def test_font_is_truetype_outlines_and_embedded_in_the_pdf():
    assert "glyf" in TTFont(FONT_PATH)
    reader = pypdf.PdfReader(io.BytesIO(render_certificate_pdf(document())))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    descriptors = [f.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"] if "/DescendantFonts" in f.get_object()
                   else f.get_object().get("/FontDescriptor") for f in fonts.values()]
    assert any(d is not None and "/FontFile2" in d.get_object() for d in descriptors)


def test_pdf_is_a4_landscape_and_its_text_has_name_course_and_number():
    reader = pypdf.PdfReader(io.BytesIO(render_certificate_pdf(document())))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert round(float(box.width)) == 842 and round(float(box.height)) == 595
    text = reader.pages[0].extract_text()
    for expected in ("欧阳鑫犇", "志愿者上岗培训", "LA-2026-000123", "联动学堂", "林明远", "3"):
        assert expected in text


def test_every_gb2312_hanzi_renders_into_the_pdf_text():
    hanzi = "".join(c for c in gb2312_characters() if "\u4e00" <= c <= "\u9fff")
    lines = [hanzi[i:i + 40] for i in range(0, len(hanzi), 40)]
    # One PDF per 1,700 characters: the name line is the longest text on the certificate.
    chunks = ["".join(lines[i:i + 40]) for i in range(0, len(lines), 40)]
    extracted = ""
    for chunk in chunks:
        pdf = render_certificate_pdf(document(course_title=chunk))
        extracted += pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    missing = [c for c in hanzi if c not in extracted]
    assert missing == []


def test_name_with_rare_characters_renders_and_is_extracted():
    pdf = render_certificate_pdf(document(holder_name="喆堃燚昇", course_title="犇淼鑫课程"))
    text = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "喆堃燚昇" in text and "犇淼鑫课程" in text


def test_qr_code_on_the_page_decodes_to_the_verification_url():
    url = "http://127.0.0.1:8000/certificates/verify/AbCdEfGhIjKlMnOpQrStUv/"
    pdf = pypdfium2.PdfDocument(render_certificate_pdf(document(verify_url=url)))
    image = pdf[0].render(scale=2).to_pil()
    decoded = [result.text for result in zxingcpp.read_barcodes(image)]
    assert decoded == [url]


def test_qr_matrix_changes_with_the_url():
    assert qr_matrix("http://a.example/1") != qr_matrix("http://a.example/2")


def test_one_pdf_takes_well_under_200_ms():
    render_certificate_pdf(document())  # the font is registered once per process
    started = time.perf_counter()
    for i in range(10):
        render_certificate_pdf(document(number=f"LA-2026-{i:06d}"))
    assert (time.perf_counter() - started) / 10 < 0.2  # bench/certificates_bulk.py measures it (a few ms)


def _fonts_of(reader) -> list:
    fonts = []
    for page in reader.pages:
        for font in page["/Resources"].get("/Font", {}).values():
            fonts.append(font.get_object())
    return fonts


def _is_embedded(font) -> bool:
    if "/DescendantFonts" in font:
        font = font["/DescendantFonts"][0].get_object()
    descriptor = font.get("/FontDescriptor")
    descriptor = descriptor.get_object() if descriptor is not None else {}
    return any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))


def test_pdf_references_no_font_that_it_does_not_embed():
    reader = pypdf.PdfReader(io.BytesIO(render_certificate_pdf(document())))
    fonts = _fonts_of(reader)
    assert fonts, "the certificate has text, so it has fonts"
    assert [str(f.get("/BaseFont")) for f in fonts if not _is_embedded(f)] == []
    assert not any("Helvetica" in str(f.get("/BaseFont")) for f in fonts)
