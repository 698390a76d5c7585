#!/usr/bin/env python
"""Benchmark: importing a generated 100-chapter work manual (~200,000 characters) from a Word file.

    .venv/bin/python bench/handbook_import.py [--chapters 100] [--characters 2000] [--database-url URL]

What it does (bounded: one build, one import, one re-import):
1. writes a .docx with python-docx (requirements-test.txt): per chapter a Heading 1 (第N章 …), sections (Heading 2)
   and a subsection (Heading 3), paragraphs of Chinese text, a bulleted list, a 【提示】 callout, a 【清单】 checklist,
   a 4 x 3 table and, every tenth chapter, a picture with a 题注 caption;
2. migrates a throw-away SQLite database (or uses --database-url, e.g. a scratch PostgreSQL database), creates the
   manual page;
3. times `import_plan` (read and convert: mammoth, the walker, bleach) and `handbook_import` (chapter drafts with
   revisions, images) for the first import, then the same file again (every chapter unchanged) and prints them.
"""
from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SENTENCES = [
    "社区是联动的平台，社会组织是载体，社会工作者是专业支撑。",
    "疫情期间，居民的求助要有统一的登记入口，分类以后再派给合适的人。",
    "志愿者上岗前要接受培训，知道防护要求，也知道遇到困难找谁。",
    "独居老人、困难家庭和慢性病患者需要逐户摸排，建立台账。",
    "信息发布要统一口径，及时、准确，不转发未经核实的消息。",
    "心理支持不只面向居民，一线的社区工作者同样需要关心。",
]
NUMERALS = "零一二三四五六七八九"


def chinese(n: int) -> str:
    if n < 10:
        return NUMERALS[n]
    if n < 20:
        return "十" + (NUMERALS[n % 10] if n % 10 else "")
    if n < 100:
        return NUMERALS[n // 10] + "十" + (NUMERALS[n % 10] if n % 10 else "")
    return "一百" + ("零" + NUMERALS[n % 10] if n % 10 else "")


def build_docx(chapters: int, characters: int) -> tuple[bytes, int]:
    import docx
    from docx.enum.style import WD_STYLE_TYPE
    from docx.shared import Inches
    from PIL import Image

    document = docx.Document()
    document.styles.add_style("题注", WD_STYLE_TYPE.PARAGRAPH)
    picture = io.BytesIO()
    Image.new("RGB", (320, 200), (11, 110, 79)).save(picture, "PNG")
    total = 0
    for number in range(1, chapters + 1):
        document.add_heading(f"第{chinese(number)}章 社区联动工作第{number}部分", 1)
        written, sentence = 0, number
        for section in range(1, 4):
            document.add_heading(f"{NUMERALS[section]}、第{section}节", 2)
            if section == 2:
                document.add_heading("（一）具体做法", 3)
            while written < characters * section / 3:
                text = "".join(SENTENCES[(sentence + k) % len(SENTENCES)] for k in range(3))
                document.add_paragraph(text)
                written += len(text)
                sentence += 1
        document.add_paragraph("先登记，后派单。", style="List Bullet")
        document.add_paragraph("每天汇总一次。", style="List Bullet")
        document.add_paragraph("【提示】遇到紧急情况先拨打110或120，再报告社区。")
        document.add_paragraph("【清单】上岗前检查")
        document.add_paragraph("口罩和手套", style="List Bullet")
        document.add_paragraph("工作证", style="List Bullet")
        table = document.add_table(rows=4, cols=3)
        for r in range(4):
            for c in range(3):
                table.cell(r, c).text = ("角色", "职责", "联系方式")[c] if r == 0 else f"第{r}行第{c + 1}列"
        if number % 10 == 0:
            picture.seek(0)
            document.add_picture(picture, width=Inches(2))
            document.add_paragraph(f"图{number}-1 物资分发点", style="题注")
        total += written
    out = io.BytesIO()
    document.save(out)
    return out.getvalue(), total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chapters", type=int, default=100)
    parser.add_argument("--characters", type=int, default=2000, help="characters of text per chapter")
    parser.add_argument("--database-url")
    args = parser.parse_args()

    scratch = tempfile.mkdtemp(prefix="handbook-import-bench-")
    os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{scratch}/bench.sqlite3"
    os.environ["MEDIA_ROOT"] = f"{scratch}/media"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "academy.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    started = time.perf_counter()
    data, characters = build_docx(args.chapters, args.characters)
    print(f"built {args.chapters} chapters, {characters:,} characters of text, {len(data) / 1024:.0f} KB .docx "
          f"in {time.perf_counter() - started:.1f} s")
    call_command("migrate", verbosity=0, interactive=False)

    from handbook.importing import handbook_import, import_plan
    from tests.factories.handbook import make_handbook
    from tests.factories.pages import make_home

    handbook = make_handbook(parent=make_home())
    for label in ("first import", "same file again"):
        t0 = time.perf_counter()
        plan = import_plan(file_name="manual.docx", data=data)
        t1 = time.perf_counter()
        result = handbook_import(plan=plan, handbook=handbook)
        t2 = time.perf_counter()
        print(f"{label}: read+convert {t1 - t0:.2f} s, write {t2 - t1:.2f} s, total {t2 - t0:.2f} s "
              f"(added {len(result.added)}, changed {len(result.changed)}, unchanged {len(result.unchanged)}; "
              f"{sum(len(c.blocks) for c in plan.chapters)} blocks)")


if __name__ == "__main__":
    main()
