"""Importing the work manual from a Word, HTML or Markdown file (see docs/handbook.md, "Importing a manual").

    plan = import_plan(file_name="手册.docx", data=raw_bytes)       # read and check: writes nothing
    plan.chapters, plan.dropped_lines()                              # what it will create, what it dropped
    result = handbook_import(plan=plan, handbook=handbook, user=user)  # drafts (never published)
    result.added, result.changed, result.unchanged

The management command (`import_handbook`) and the admin view (Wagtail admin → 导入手册) are thin callers.
"""
from handbook.importing.services import (
    ImportFailed, ImportResult, NO_CHAPTERS, handbook_import, import_plan,
)
from handbook.importing.sources import SourceError
from handbook.importing.structure import ImportPlan, PlannedChapter, chinese_numeral, split_chapter_heading

__all__ = [
    "ImportFailed", "ImportPlan", "ImportResult", "NO_CHAPTERS", "PlannedChapter", "SourceError", "chinese_numeral",
    "handbook_import", "import_plan", "split_chapter_heading",
]
