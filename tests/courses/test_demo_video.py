"""The demo's video is real and small, made offline by scripts/make_demo_video.py, committed, and labelled with its
real duration; load_demo uses the committed file (no ffmpeg or espeak-ng needed)."""
import json
import math
import subprocess
import shutil

import pytest

from courses.models import LessonPage
from tests.factories import ensure_demo_users
from tests.factories.courses import DEMO_VIDEO_FILE

from .test_demo import load

SIZE_LIMIT = 1_500_000


def test_committed_demo_video_is_a_small_mp4_with_its_duration_beside_it():
    data = DEMO_VIDEO_FILE.read_bytes()
    assert data[4:8] == b"ftyp"  # an ISO media (MP4) file, not a WAV in disguise
    assert 100_000 < len(data) < SIZE_LIMIT
    seconds = json.loads(DEMO_VIDEO_FILE.with_suffix(".json").read_text())["seconds"]
    assert 30 <= seconds <= 180


@pytest.mark.skipif(not shutil.which("ffprobe"), reason="ffprobe is not installed")
def test_committed_duration_is_the_video_s_real_duration():
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name:format=duration", "-of", "json",
                          str(DEMO_VIDEO_FILE)], capture_output=True, text=True, check=True).stdout
    probe = json.loads(out)
    assert {stream["codec_name"] for stream in probe["streams"]} == {"h264", "aac"}
    seconds = json.loads(DEMO_VIDEO_FILE.with_suffix(".json").read_text())["seconds"]
    assert abs(float(probe["format"]["duration"]) - seconds) < 1


@pytest.mark.django_db
def test_demo_video_lesson_uses_the_committed_file_and_says_its_real_duration(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")  # neither ffmpeg nor espeak-ng can be found while the demo is built
    load(ensure_demo_users("demo-pass-123"))
    lesson = LessonPage.objects.get(slug="three-kinds-of-linkage")
    seconds = json.loads(DEMO_VIDEO_FILE.with_suffix(".json").read_text())["seconds"]
    assert lesson.video.file.name.endswith(".mp4")
    with lesson.video.file.open("rb") as stored:
        assert stored.read() == DEMO_VIDEO_FILE.read_bytes()
    assert lesson.estimated_minutes == math.ceil(seconds / 60)
    minutes, rest = divmod(seconds, 60)
    assert f"时长 {minutes} 分 {rest} 秒" in lesson.body
