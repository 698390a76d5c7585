#!/usr/bin/env python
"""Bulk certificate issuing: certificates per second for COUNT completions (default 10,000).

What is timed, on a fresh test database (SQLite by default; PostgreSQL when DATABASE_URL is set):
  ours      certificate_issue_bulk() for all COUNT completions (one transaction: number block, bulk insert of the
            certificates and their audit events), then one PDF per certificate rendered in memory with the font
            registered once per process and the QR drawn as vectors.
  baseline  the naive way, on a sample (--baseline-sample, default 200) and reported per certificate: one
            certificate_issue() call per completion (a transaction each), and per PDF a freshly parsed TTFont,
            a fresh canvas, and the QR made as a PNG image by qrcode.make() (all eight masks scored) and placed
            with drawImage.
The ratio ours/baseline is printed: the machine is shared and noisy, so compare ratios, not absolute rates.
PDFs are not written to disk (writing 10,000 × ~18 KB is the file system's speed, not ours).

    .venv/bin/python bench/certificates_bulk.py [--count 10000] [--baseline-sample 200]
"""
import argparse
import io
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "academy.settings")
os.environ.setdefault("SQLITE_TEST_NAME", "/tmp/bench-certificates.sqlite3")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--baseline-sample", type=int, default=200)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        run(args)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def naive_pdf(doc) -> bytes:
    """The stock way: parse the font for every document, a PNG QR code with qrcode's defaults."""
    import qrcode
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    from courses.certificates.pdf import FONT_PATH, PAGE_SIZE

    pdfmetrics.registerFont(TTFont("NaiveCJK", str(FONT_PATH)))
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=PAGE_SIZE)
    width, height = PAGE_SIZE
    c.setFont("NaiveCJK", 36)
    c.drawCentredString(width / 2, height - 128, "志愿者培训证书")
    c.setFont("NaiveCJK", 30)
    c.drawCentredString(width / 2, height - 232, doc.holder_name)
    c.setFont("NaiveCJK", 17)
    c.drawCentredString(width / 2, height - 296, f"于{doc.completed_on}完成《{doc.course_title}》课程的全部学习要求，共计{doc.hours}学时，特发此证。")
    c.setFont("NaiveCJK", 12)
    c.drawString(84, 128, f"证书编号：{doc.number}")
    c.drawString(84, 106, f"颁发机构：{doc.issuer_name}")
    png = io.BytesIO()
    qrcode.make(doc.verify_url).save(png)
    png.seek(0)
    c.drawImage(ImageReader(png), width / 2 - 48, 66, 96, 96)
    c.showPage()
    c.save()
    return buffer.getvalue()


def make_completions(course, count: int, prefix: str):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from courses.models import Completion, Enrolment

    User = get_user_model()
    users = User.objects.bulk_create(
        [User(username=f"{prefix}{i}", real_name=f"学员{i:05d}", email=f"{prefix}{i}@example.org", password="!")
         for i in range(count)], batch_size=1000)
    users = list(User.objects.filter(username__startswith=prefix).order_by("pk"))
    enrolments = Enrolment.objects.bulk_create([Enrolment(user=u, course=course) for u in users], batch_size=1000)
    enrolments = list(Enrolment.objects.filter(course=course, user__username__startswith=prefix))
    now = timezone.now()
    Completion.objects.bulk_create([Completion(enrolment=e, completed_at=now) for e in enrolments], batch_size=1000)
    return Completion.objects.filter(enrolment__course=course, enrolment__user__username__startswith=prefix)


def run(args) -> None:
    from decimal import Decimal

    from django.db import connection

    from courses.certificates import services
    from courses.certificates.pdf import certificate_document, register_font, render_certificate_pdf
    from tests.factories.certificates import set_issuer
    from tests.factories.courses import make_course

    set_issuer()
    course = make_course(title="志愿者上岗培训", slug="bench-course", hours_credited=Decimal("3.0"))
    baseline_course = make_course(title="志愿者上岗培训（基线）", slug="bench-baseline", hours_credited=Decimal("3.0"))
    print(f"database: {connection.vendor}; preparing {args.count} + {args.baseline_sample} completions …", flush=True)
    completions = make_completions(course, args.count, "bench")
    baseline_completions = list(make_completions(baseline_course, args.baseline_sample, "base").select_related(
        "enrolment__user", "enrolment__course"))

    # --- ours ---
    started = time.perf_counter()
    register_font()
    font_seconds = time.perf_counter() - started
    started = time.perf_counter()
    issued = services.certificate_issue_bulk(completions=completions)
    rows_seconds = time.perf_counter() - started
    assert len(issued) == args.count, len(issued)
    started = time.perf_counter()
    total_bytes, slowest = 0, 0.0
    for certificate in issued:
        one = time.perf_counter()
        total_bytes += len(render_certificate_pdf(certificate_document(certificate)))
        slowest = max(slowest, time.perf_counter() - one)
    pdf_seconds = time.perf_counter() - started
    ours_total = rows_seconds + pdf_seconds
    ours_rate = args.count / ours_total

    # --- baseline (naive), on a sample ---
    started = time.perf_counter()
    base_issued = [services.certificate_issue(completion=c) for c in baseline_completions]
    base_rows_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for certificate in base_issued:
        naive_pdf(certificate_document(certificate))
    base_pdf_seconds = time.perf_counter() - started
    base_rate = args.baseline_sample / (base_rows_seconds + base_pdf_seconds)

    n, b = args.count, args.baseline_sample
    print(f"font registration (once per process): {font_seconds * 1000:.0f} ms")
    print(f"ours:     {n} certificate rows + events in {rows_seconds:.2f} s ({n / rows_seconds:,.0f} rows/s)")
    print(f"          {n} PDFs in {pdf_seconds:.2f} s: {pdf_seconds / n * 1000:.1f} ms each on average, "
          f"slowest {slowest * 1000:.1f} ms, {total_bytes / n / 1024:.1f} KiB each")
    print(f"          {ours_rate:,.1f} certificates/s (rows + PDFs)")
    print(f"baseline: {b} one-by-one issues in {base_rows_seconds:.2f} s ({b / base_rows_seconds:,.0f} rows/s)")
    print(f"          {b} naive PDFs in {base_pdf_seconds:.2f} s: {base_pdf_seconds / b * 1000:.1f} ms each")
    print(f"          {base_rate:,.1f} certificates/s (rows + PDFs)")
    print(f"ratio ours/baseline: rows {(n / rows_seconds) / (b / base_rows_seconds):.1f}x, "
          f"PDFs {(base_pdf_seconds / b) / (pdf_seconds / n):.1f}x, overall {ours_rate / base_rate:.1f}x")


if __name__ == "__main__":
    main()
