"""The certificate as a PDF: A4 landscape, Chinese text in an embedded TrueType CJK font, a QR code to the
verification page.

Speed: the font (a 3 MB TrueType subset of WenQuanYi Micro Hei covering GBK, so all of GB 2312) is parsed and
registered once per process; each PDF embeds only the glyphs it uses (reportlab subsets on output). The QR code is
drawn as vector rectangles straight from the qrcode matrix, with no raster image to encode. One PDF takes a few
milliseconds; `bench/certificates_bulk.py` measures it against the naive way.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import qrcode
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen import canvas

from academy.fonts import FONT_PATH, register_cjk_font  # noqa: F401  (FONT_PATH: the project's one CJK font)

PAGE_SIZE = landscape(A4)  # 841.89 x 595.28 pt
QR_MASK = 4

INK = HexColor("#1f2a37")
ACCENT = HexColor("#9a3412")
MUTED = HexColor("#6b7280")

def register_font() -> str:
    """The project's CJK font, registered once per process (academy/fonts); returns its name."""
    return register_cjk_font()


def missing_glyphs(text: str) -> list[str]:
    """Characters of `text` the certificate font cannot draw (empty when every one renders)."""
    font = pdfmetrics.getFont(register_font())
    char_to_glyph = font.face.charToGlyph
    return sorted({ch for ch in text if not ch.isspace() and ord(ch) not in char_to_glyph})


@dataclass(frozen=True)
class CertificateDocument:
    """Everything printed on a certificate (a snapshot taken when it was issued)."""

    holder_name: str
    course_title: str
    hours: Decimal
    completed_on: date
    issued_on: date
    number: str
    issuer_name: str
    signatory_name: str
    signatory_title: str
    verify_url: str


def qr_matrix(data: str) -> list[list[bool]]:
    # A fixed mask pattern: scoring all eight (qrcode's default) takes three quarters of a PDF's time, and any
    # mask decodes; the tests decode the printed code.
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0, mask_pattern=QR_MASK)
    code.add_data(data)
    code.make(fit=True)
    return code.get_matrix()


def draw_qr(c: canvas.Canvas, data: str, *, x: float, y: float, size: float) -> None:
    """Draw the QR code of `data` with its bottom-left corner at (x, y), inside a white quiet zone of four
    modules. The dark modules go into the content stream as integer rectangles (one per horizontal run) under a
    scaling transform: no raster image, and no float formatting per module."""
    matrix = qr_matrix(data)
    n = len(matrix)
    module = size / (n + 8)
    c.setFillColorRGB(1, 1, 1)
    c.rect(x, y, size, size, stroke=0, fill=1)
    c.saveState()
    c.setFillColorRGB(0, 0, 0)
    # Module units, origin at the code's top-left module, y growing downwards.
    c.transform(module, 0, 0, -module, x + 4 * module, y + size - 4 * module)
    runs = []
    for row, cells in enumerate(matrix):
        col = 0
        while col < n:
            if cells[col]:
                start = col
                while col < n and cells[col]:
                    col += 1
                runs.append(f"{start} {row} {col - start} 1 re")
            else:
                col += 1
    c.addLiteral("\n".join(runs) + "\nf")
    c.restoreState()


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Break `text` into lines no wider than `width`; CJK text may break between any two characters."""
    lines, line = [], ""
    for ch in text:
        if pdfmetrics.stringWidth(line + ch, font, size) > width and line:
            lines.append(line)
            line = ch.lstrip()
        else:
            line += ch
    if line:
        lines.append(line)
    return lines


def _date(value: date) -> str:
    return _("%(year)d-%(month)02d-%(day)02d") % {"year": value.year, "month": value.month, "day": value.day}


def _hours(value: Decimal) -> str:
    text = format(Decimal(value).normalize(), "f")
    return text


def draw_certificate(c: canvas.Canvas, doc: CertificateDocument) -> None:
    """Draw one certificate on the canvas's current page."""
    font = register_font()
    width, height = PAGE_SIZE
    # Frame: an outer accent border and a thin inner line.
    c.setStrokeColor(ACCENT)
    c.setLineWidth(6)
    c.rect(24, 24, width - 48, height - 48)
    c.setLineWidth(0.8)
    c.rect(36, 36, width - 72, height - 72)

    c.setFillColor(ACCENT)
    c.setFont(font, 36)
    c.drawCentredString(width / 2, height - 128, _("Volunteer Training Certificate"))
    c.setFillColor(MUTED)
    c.setFont(font, 11)
    c.drawCentredString(width / 2, height - 152, "VOLUNTEER TRAINING CERTIFICATE")

    c.setFillColor(INK)
    c.setFont(font, 30)
    c.drawCentredString(width / 2, height - 232, doc.holder_name)
    c.setLineWidth(0.6)
    c.setStrokeColor(MUTED)
    c.line(width / 2 - 150, height - 244, width / 2 + 150, height - 244)

    sentence = _(
        "completed all the requirements of the course “%(course)s” on %(date)s, "
        "%(hours)s training hours in total. This certificate is hereby awarded."
    ) % {"course": doc.course_title, "date": _date(doc.completed_on), "hours": _hours(doc.hours)}
    c.setFont(font, 17)
    y = height - 296
    for line in _wrap(sentence, font, 17, width - 220):
        c.drawCentredString(width / 2, y, line)
        y -= 30

    # Bottom left: number, issuer, date of issue. Bottom right: signatory. Bottom centre: the QR code.
    c.setFont(font, 12)
    c.setFillColor(INK)
    left = 84
    c.drawString(left, 128, _("Certificate number: %(number)s") % {"number": doc.number})
    c.drawString(left, 106, _("Issued by: %(issuer)s") % {"issuer": doc.issuer_name})
    c.drawString(left, 84, _("Date of issue: %(date)s") % {"date": _date(doc.issued_on)})

    right = width - 84
    if doc.signatory_name:
        c.setStrokeColor(INK)
        c.line(right - 190, 124, right, 124)
        c.setFont(font, 16)
        c.drawRightString(right, 130, doc.signatory_name)
        c.setFont(font, 11)
        c.drawRightString(right, 106, doc.signatory_title)
    c.setFont(font, 12)
    c.drawRightString(right, 84, doc.issuer_name)

    qr_size = 96
    draw_qr(c, doc.verify_url, x=width / 2 - qr_size / 2, y=66, size=qr_size)
    c.setFont(font, 9)
    c.setFillColor(MUTED)
    c.drawCentredString(width / 2, 54, _("Scan to verify"))


def render_certificate_pdf(doc: CertificateDocument) -> bytes:
    """The certificate as PDF bytes (in the site's language: the certificate is a Chinese document)."""
    buffer = io.BytesIO()
    # The canvas starts in the embedded CJK font: ReportLab's default (Helvetica, one of the 14 standard fonts that
    # are never embedded) would otherwise be referenced by every page although no text uses it.
    c = canvas.Canvas(buffer, pagesize=PAGE_SIZE, pageCompression=1, initialFontName=register_font())
    c.setTitle(f"{doc.number} {doc.holder_name}")
    c.setAuthor(doc.issuer_name)
    c.setSubject(doc.course_title)
    with translation.override(settings.LANGUAGE_CODE):
        draw_certificate(c, doc)
    c.showPage()
    c.save()
    return buffer.getvalue()


def certificate_document(certificate) -> CertificateDocument:
    """What `certificate` (a Certificate row) prints."""
    from django.utils import timezone

    from .credentials import verify_url

    return CertificateDocument(
        holder_name=certificate.holder_name,
        course_title=certificate.course_title,
        hours=certificate.hours,
        completed_on=timezone.localdate(certificate.completed_at),
        issued_on=timezone.localdate(certificate.issued_at),
        number=certificate.number,
        issuer_name=certificate.issuer_name,
        signatory_name=certificate.signatory_name,
        signatory_title=certificate.signatory_title,
        verify_url=verify_url(certificate),
    )


def certificate_pdf(certificate) -> bytes:
    return render_certificate_pdf(certificate_document(certificate))
