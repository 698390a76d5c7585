"""How long an uploaded lesson video (or audio) plays, read by the server from the file itself.

The video progress service compares what the player reports with the media's real length, so that a client cannot
shrink the video by claiming a short `duration`. MP4/MOV (the `mvhd` box) and WAV are read in Python; other formats
(WebM …) with `ffprobe` when it is installed. The result is cached per file. None when the length is unknown: the
service then falls back on the lesson's estimated minutes.
"""
from __future__ import annotations

import logging
import shutil
import struct
import subprocess
import wave

from django.core.cache import cache

logger = logging.getLogger(__name__)

UNKNOWN = 0.0
FFPROBE_TIMEOUT = 15


def media_duration(document) -> float | None:
    """Seconds that `document`'s file plays, or None when it cannot be read."""
    if document is None or not document.file:
        return None
    key = f"courses:media-duration:{document.pk}:{document.file.name}:{document.file_hash or document.file_size or ''}"
    seconds = cache.get(key)
    if seconds is None:
        seconds = _read_duration(document.file) or UNKNOWN
        cache.set(key, seconds, None)
    return seconds or None


def _read_duration(field_file) -> float | None:
    try:
        with field_file.open("rb") as handle:
            head = handle.read(12)
            handle.seek(0)
            if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
                return _wav_duration(handle)
            if head[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip"):
                seconds = _mp4_duration(handle)
                if seconds:
                    return seconds
    except (OSError, EOFError, wave.Error, struct.error, ValueError):
        logger.info("Could not read the length of %s in Python", field_file.name, exc_info=True)
    return _ffprobe_duration(field_file)


def _wav_duration(handle) -> float | None:
    with wave.open(handle, "rb") as audio:
        rate = audio.getframerate()
        return audio.getnframes() / rate if rate else None


def _mp4_duration(handle) -> float | None:
    """The movie header's duration / timescale, found by walking the top-level boxes to `moov` and into it."""
    end = handle.seek(0, 2)
    position = 0
    while position + 8 <= end:
        handle.seek(position)
        size, kind = struct.unpack(">I4s", handle.read(8))
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", handle.read(8))[0], 16
        elif size == 0:
            size = end - position
        if size < header:
            return None
        if kind == b"moov":
            return _mvhd_in(handle, position + header, position + size)
        position += size
    return None


def _mvhd_in(handle, start: int, stop: int) -> float | None:
    position = start
    while position + 8 <= stop:
        handle.seek(position)
        size, kind = struct.unpack(">I4s", handle.read(8))
        if size < 8:
            return None
        if kind == b"mvhd":
            version = handle.read(4)[0]
            if version == 1:
                _created, _modified, timescale, duration = struct.unpack(">QQIQ", handle.read(28))
            else:
                _created, _modified, timescale, duration = struct.unpack(">IIII", handle.read(16))
            return duration / timescale if timescale else None
        position += size
    return None


def _ffprobe_duration(field_file) -> float | None:
    ffprobe = shutil.which("ffprobe")
    try:
        path = field_file.path
    except (NotImplementedError, AttributeError):
        return None
    if not ffprobe:
        return None
    try:
        result = subprocess.run(
            [ffprobe, "-v", "error", "-show_entries", "format=duration", "-of", "default=nw=1:nk=1", path],
            capture_output=True, text=True, timeout=FFPROBE_TIMEOUT, check=False,
        )
        seconds = float(result.stdout.strip())
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    return seconds if seconds > 0 and seconds < 10**6 else None
