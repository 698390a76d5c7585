import pytest
from django.db import IntegrityError, transaction

from handbook.models import ChapterPage, ChapterRead
from handbook.selectors import handbook_progress, read_chapter_ids
from handbook.services import ProgressError, chapter_mark_read, NOT_SIGNED_IN
from handbook.signals import chapter_read
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_marking_a_chapter_read_twice_keeps_one_record(volunteer, chapters):
    first, created_first = chapter_mark_read(user=volunteer, chapter=chapters[0])
    second, created_second = chapter_mark_read(user=volunteer, chapter=chapters[0])
    assert (created_first, created_second) == (True, False)
    assert first.pk == second.pk
    assert ChapterRead.objects.filter(user=volunteer).count() == 1


def test_database_refuses_a_second_row_for_the_same_reader_and_chapter(volunteer, chapters):
    ChapterRead.objects.create(user=volunteer, chapter=chapters[0])
    with pytest.raises(IntegrityError), transaction.atomic():
        ChapterRead.objects.create(user=volunteer, chapter=chapters[0])


def test_chapter_read_signal_is_sent_once_after_commit(volunteer, chapters, django_capture_on_commit_callbacks):
    received = []

    def listener(sender, user, chapter, **kwargs):
        received.append((sender, user.pk, chapter.pk))

    chapter_read.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            chapter_mark_read(user=volunteer, chapter=chapters[1])
        with django_capture_on_commit_callbacks(execute=True):
            chapter_mark_read(user=volunteer, chapter=chapters[1])
    finally:
        chapter_read.disconnect(listener)
    assert received == [(ChapterPage, volunteer.pk, chapters[1].pk)]


def test_progress_counts_only_the_readers_own_chapters(volunteer, socialworker, handbook, chapters):
    chapter_mark_read(user=volunteer, chapter=chapters[0])
    chapter_mark_read(user=volunteer, chapter=chapters[2])
    chapter_mark_read(user=socialworker, chapter=chapters[1])
    assert read_chapter_ids(user=volunteer) == {chapters[0].pk, chapters[2].pk}
    progress = handbook_progress(user=volunteer, handbook=handbook)
    assert (progress.read, progress.total, progress.percent) == (2, 3, 67)
    assert handbook_progress(user=socialworker, handbook=handbook).read_ids == {chapters[1].pk}


def test_anonymous_reader_cannot_record_progress(chapters):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(ProgressError) as error:
        chapter_mark_read(user=AnonymousUser(), chapter=chapters[0])
    assert str(error.value) == str(NOT_SIGNED_IN)
    assert read_chapter_ids(user=AnonymousUser()) == set()


def test_unpublished_chapter_is_not_counted_in_progress(volunteer, handbook, chapters):
    chapter_mark_read(user=volunteer, chapter=chapters[0])
    chapters[0].unpublish()
    progress = handbook_progress(user=volunteer, handbook=handbook)
    assert (progress.read, progress.total) == (0, 2)


def test_deleting_a_reader_deletes_their_progress(chapters):
    reader = UserFactory()
    chapter_mark_read(user=reader, chapter=chapters[0])
    reader.delete()
    assert ChapterRead.objects.count() == 0
