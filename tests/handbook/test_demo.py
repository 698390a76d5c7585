"""The demo manual (handbook/demo.py): ten chapters of substance, built with handbook/builders.py, idempotently."""
import pytest

from handbook.models import ChapterPage, ChapterRead, HandbookPage
from academy.demo import ensure_demo_users
from handbook.demo import DEMO_VOLUNTEER_READ, load_demo

pytestmark = pytest.mark.django_db


def test_demo_builds_the_manual_once_and_a_second_run_changes_nothing(home, client):
    users = ensure_demo_users("demo-pass-123")
    first_log, second_log = [], []
    load_demo(users=users, log=first_log.append)
    revisions = {page.pk: page.live_revision_id for page in ChapterPage.objects.all()}
    load_demo(users=users, log=second_log.append)
    assert HandbookPage.objects.count() == 1
    assert ChapterPage.objects.live().count() >= 10
    assert {page.pk: page.live_revision_id for page in ChapterPage.objects.all()} == revisions
    assert first_log and second_log == []
    assert ChapterRead.objects.filter(user=users["demo-volunteer"]).count() == DEMO_VOLUNTEER_READ

    # Every chapter is of substance: several sections, a checklist and a case story.
    for chapter in ChapterPage.objects.live():
        kinds = [block.block_type for block in chapter.body]
        assert kinds.count("heading") >= 3, chapter.title
        assert "checklist" in kinds and "case_story" in kinds, chapter.title
        assert chapter.reading_minutes >= 3, chapter.title
    html = client.get("/handbook/").content.decode()
    assert "三社联动线上抗疫工作手册" in html
    assert html.count('class="toc-item') >= 10
