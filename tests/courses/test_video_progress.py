"""Video progress is checked by the server against the clock: no faster than the media plays, never beyond its
length, only for the learner's own lessons. Hostile heartbeats: jumps, negatives, NaN, huge numbers, wrong kinds."""
import io
import wave
from datetime import timedelta

import pytest
from django.utils import timezone

from courses import completion, services
from courses.media import media_duration
from courses.models import LessonPage, LessonProgress
from tests.factories import UserFactory
from tests.factories.courses import enrol, make_lesson, make_video_document

pytestmark = pytest.mark.django_db

SECONDS = 60


def wav_document(seconds: int = SECONDS):
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as track:
        track.setnchannels(1)
        track.setsampwidth(1)
        track.setframerate(1000)
        track.writeframes(b"\x80" * 1000 * seconds)
    return make_video_document(content=buffer.getvalue(), name="talk.wav")


@pytest.fixture
def video(course):
    return make_lesson(course, slug="video", kind=LessonPage.Kind.VIDEO, video=wav_document(), required_percent=80,
                       estimated_minutes=30)


def _post(client, lesson, body):
    return client.post(lesson.url + "progress/", body, content_type="application/json")


def _row(user, lesson) -> LessonProgress:
    return LessonProgress.objects.get(user=user, lesson=lesson)


def _travel(user, lesson, seconds: float):
    """As if the last heartbeat and the viewing's start were `seconds` earlier."""
    row = _row(user, lesson)
    LessonProgress.objects.filter(pk=row.pk).update(
        heartbeat_at=row.heartbeat_at - timedelta(seconds=seconds),
        viewing_started_at=row.viewing_started_at - timedelta(seconds=seconds))


def test_the_server_reads_the_media_length_from_the_file(video):
    assert media_duration(video.video) == pytest.approx(SECONDS)


def test_the_server_reads_an_mp4_length_from_its_movie_header():
    import struct

    mvhd = struct.pack(">I4sB3sIIII", 32, b"mvhd", 0, b"\0\0\0", 0, 0, 600, 600 * 42)
    moov = struct.pack(">I4s", 8 + len(mvhd), b"moov") + mvhd
    ftyp = struct.pack(">I4s4sI", 16, b"ftyp", b"isom", 0)
    mdat = struct.pack(">I4s", 16, b"mdat") + b"\0" * 8
    document = make_video_document(content=ftyp + mdat + moov, name="clip.mp4")
    assert media_duration(document) == pytest.approx(42)


def test_percent_100_at_once_does_not_complete_the_lesson(client, volunteer, video, enrolled):
    client.force_login(volunteer)
    response = _post(client, video, '{"percent": 100}')
    assert response.status_code == 200
    assert response.json()["completed"] is False
    assert response.json()["watched_percent"] <= 10  # the slack of a viewing's start, 5 s of 60
    assert completion.lesson_state(user=volunteer, lesson=video).status != completion.COMPLETED


def test_progress_advances_no_faster_than_real_time(volunteer, video, enrolled):
    start = timezone.now()
    services.video_progress_record(user=volunteer, lesson=video, seconds=0, now=start)
    services.video_progress_record(user=volunteer, lesson=video, seconds=60, now=start + timedelta(seconds=15))
    assert _row(volunteer, video).watched_seconds == pytest.approx(15 * 1.1 + 5)
    services.video_progress_record(user=volunteer, lesson=video, seconds=60, now=start + timedelta(seconds=30))
    assert _row(volunteer, video).watched_seconds == pytest.approx(30 * 1.1 + 5)
    assert completion.lesson_state(user=volunteer, lesson=video).status == completion.IN_PROGRESS
    state = services.video_progress_record(user=volunteer, lesson=video, seconds=48, now=start + timedelta(seconds=45))
    assert state.completed and state.watched_percent == 80


def test_honest_heartbeats_complete_the_lesson_and_never_pass_the_media_length(volunteer, video, enrolled):
    start = timezone.now()
    for second in range(0, 75, 15):
        state = services.video_progress_record(user=volunteer, lesson=video, seconds=min(second, SECONDS),
                                               now=start + timedelta(seconds=second))
    assert state.completed and state.watched_percent == 100
    services.video_progress_record(user=volunteer, lesson=video, seconds=5000, now=start + timedelta(seconds=3000))
    assert _row(volunteer, video).watched_seconds == pytest.approx(SECONDS)


def test_many_fast_heartbeats_earn_the_slack_once_not_per_heartbeat(volunteer, video, enrolled):
    start = timezone.now()
    for tenth in range(100):  # a hundred heartbeats in ten seconds, each claiming the whole video
        services.video_progress_record(user=volunteer, lesson=video, seconds=SECONDS,
                                       now=start + timedelta(seconds=tenth / 10))
    assert _row(volunteer, video).watched_seconds <= 9.9 * 1.1 + 5 + 0.01


def test_a_long_silence_starts_a_new_viewing_instead_of_crediting_the_gap(volunteer, video, enrolled):
    start = timezone.now()
    services.video_progress_record(user=volunteer, lesson=video, seconds=0, now=start)
    services.video_progress_record(user=volunteer, lesson=video, seconds=10, now=start + timedelta(seconds=10))
    # A day later the same page claims the whole video: only the new viewing's slack is credited.
    state = services.video_progress_record(user=volunteer, lesson=video, seconds=SECONDS,
                                           now=start + timedelta(days=1))
    assert _row(volunteer, video).watched_seconds == pytest.approx(15)
    assert not state.completed


def test_a_heartbeat_from_the_past_credits_nothing_extra(volunteer, video, enrolled):
    start = timezone.now()
    services.video_progress_record(user=volunteer, lesson=video, seconds=0, now=start)
    services.video_progress_record(user=volunteer, lesson=video, seconds=SECONDS, now=start - timedelta(hours=1))
    assert _row(volunteer, video).watched_seconds <= 5


@pytest.mark.parametrize("body", [
    '{"seconds": -1}', '{"seconds": NaN}', '{"seconds": Infinity}', '{"seconds": -Infinity}', '{"seconds": 1e308}',
    '{"seconds": 100000}', '{"seconds": "60"}', '{"seconds": true}', '{"seconds": [60]}', '{"seconds": {"a": 1}}',
    '{"percent": -5}', '{"percent": NaN}', '{"percent": 101}', '{"percent": 1e400}', '{"percent": "100"}', '{}',
    '[]', '"x"', "null", "not json", '{"seconds": 99999999999999999999999999999}', '{"seconds": 1%s}' % ("0" * 400),
    '{"percent": 1%s}' % ("0" * 400), '{"seconds": 1%s}' % ("0" * 5000), b'{"seconds": "\xff\xfe"}', "[" * 5000 + "]" * 5000,
])
def test_hostile_heartbeats_are_refused_with_400_and_change_nothing(client, volunteer, video, enrolled, body):
    client.force_login(volunteer)
    response = _post(client, video, body)
    assert response.status_code == 400
    assert "error" in response.json() and "Traceback" not in response.content.decode()
    assert not LessonProgress.objects.filter(lesson=video, watched_seconds__gt=0).exists()


def test_heartbeats_for_a_lesson_of_a_course_the_learner_is_not_enrolled_in_are_refused(client, outsider, video):
    client.force_login(outsider)
    assert _post(client, video, '{"seconds": 1}').status_code == 403
    assert not LessonProgress.objects.filter(lesson=video).exists()


def test_heartbeats_for_a_reading_lesson_are_refused(client, volunteer, reading, enrolled):
    client.force_login(volunteer)
    assert _post(client, reading, '{"seconds": 1}').status_code == 400


def test_a_heartbeat_names_no_other_user_it_records_only_the_senders_own_progress(client, volunteer, video, enrolled):
    other = UserFactory(username="classmate")
    enrol(other, video.course)
    client.force_login(volunteer)
    assert _post(client, video, f'{{"seconds": 0, "user": {other.pk}, "user_id": {other.pk}}}').status_code == 200
    _travel(volunteer, video, 40)
    response = _post(client, video, f'{{"seconds": 40, "user": {other.pk}}}')
    assert response.json()["watched_seconds"] == pytest.approx(40)
    assert not LessonProgress.objects.filter(user=other).exists()


def test_anonymous_heartbeats_are_refused(client, video):
    assert _post(client, video, '{"seconds": 1}').status_code == 403
    assert client.get(video.url + "progress/").status_code == 405


def test_a_heartbeat_to_an_unknown_lesson_path_is_404(client, volunteer, video, enrolled):
    client.force_login(volunteer)
    response = client.post(video.url.rstrip("/") + "-nope/progress/", "{}", content_type="application/json")
    assert response.status_code == 404
