"""The handbook's demo step: the manual and its chapters from handbook/demo_content.py, built with
handbook/builders.py; demo-volunteer has read the first DEMO_VOLUNTEER_READ chapters. Idempotent."""
from __future__ import annotations

import datetime

from handbook.builders import make_chapter, make_handbook
from handbook.demo_content import CHAPTERS, HANDBOOK
from handbook.services import chapter_mark_read

DEMO_VOLUNTEER_READ = 3  # demo-volunteer has read chapters 1–3 (the courses demo may rely on this)


def load_demo(*, users, log):
    handbook = make_handbook(
        title=HANDBOOK["title"],
        edition=HANDBOOK["edition"],
        published_date=datetime.date.fromisoformat(HANDBOOK["published"]),
        introduction=HANDBOOK["introduction"],
        intended_readers=HANDBOOK["intended_readers"],
    )
    created = 0
    for data in CHAPTERS:
        if not handbook.get_children().filter(slug=data["slug"]).exists():
            created += 1
        make_chapter(
            handbook, slug=data["slug"], number=data["number"], title=data["title"], summary=data["summary"],
            audience=list(data["audience"]), body=list(data["body"]),
        )
    if created:
        log(f"handbook: {created} chapters added")
    volunteer = users.get("demo-volunteer")
    if volunteer is not None:
        newly_read = 0
        for chapter in handbook.chapters()[:DEMO_VOLUNTEER_READ]:
            _record, was_created = chapter_mark_read(user=volunteer, chapter=chapter)
            newly_read += was_created
        if newly_read:
            log(f"handbook: demo-volunteer has read {newly_read} chapters")
