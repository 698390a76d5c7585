#!/usr/bin/env python3
"""Make the demo course's short video offline: slides drawn with the project's CJK font, a Mandarin narration from
espeak-ng, joined by ffmpeg into a small H.264/AAC MP4.

    .venv/bin/python scripts/make_demo_video.py            # writes courses/demo_media/three-kinds-of-linkage.mp4

Needs Pillow (a requirement already), ffmpeg and espeak-ng (Debian: apt-get install ffmpeg espeak-ng). Only this
script needs them: the result is committed, and `load_demo` uses the committed file and the duration written beside
it (three-kinds-of-linkage.json), so a fresh machine builds the demo without either tool.
"""
import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[1]
FONT = ROOT / "courses" / "certificates" / "fonts" / "WenQuanYiMicroHei-GBK.ttf"
OUT = ROOT / "courses" / "demo_media" / "three-kinds-of-linkage.mp4"
SIZE = (640, 360)
GREEN, INK, PAPER, MUTED = (11, 110, 79), (29, 35, 39), (255, 255, 255), (85, 95, 102)
PAUSE_SECONDS = 0.6
SIZE_LIMIT = 1_500_000

# (heading, lines on the slide, narration). Our own words; all people and places in the demo are fictional.
SLIDES = [
    ("危机中的三种联动", ["联动学堂 · 演示视频", "三社联动线上抗疫实务"],
     "欢迎来到联动学堂。这段短片介绍危机中的三种联动方式。"),
    ("一、应急联动", ["医生、社工、志愿者和居民", "临时组成线上小组", "先解决最急的问题"],
     "第一种是应急联动。医生、社工、志愿者和居民临时组成线上小组，先把最急的事情办好。"),
    ("二、外部资源联动", ["社区以外的机构和个人", "借助互联网", "把物资送进社区"],
     "第二种是外部资源联动。社区以外的机构和个人，借助互联网，把物资送进社区。"),
    ("三、社区内部联动", ["外部力量一时进不来时", "居委会和居民团体", "自己组织起来"],
     "第三种是社区内部联动。外面的力量一时进不来，居委会和居民团体就自己组织起来。"),
    ("两个检验标准", ["够不够快？", "有没有真正解决问题？"],
     "检验联动好不好，看两点：够不够快，有没有真正解决问题。"),
]


def need(tool: str) -> str:
    path = shutil.which(tool)
    if not path:
        sys.exit(f"{tool} is not installed (Debian: apt-get install {tool}).")
    return path


def draw_slide(heading: str, lines: list[str], number: int, path: Path) -> None:
    image = Image.new("RGB", SIZE, PAPER)
    draw = ImageDraw.Draw(image)
    big, body, small = (ImageFont.truetype(str(FONT), size) for size in (40, 28, 18))
    draw.rectangle([0, 0, SIZE[0], 64], fill=GREEN)
    draw.text((24, 18), "联动学堂", font=small, fill=PAPER)
    draw.text((SIZE[0] - 24, 18), f"{number} / {len(SLIDES)}", font=small, fill=PAPER, anchor="ra")
    draw.text((40, 96), heading, font=big, fill=GREEN)
    for index, line in enumerate(lines):
        draw.text((40, 170 + index * 46), line, font=body, fill=INK if index else MUTED if number == 1 else INK)
    image.save(path, optimize=True)


def speak(text: str, path: Path) -> float:
    subprocess.run([need("espeak-ng"), "-v", "cmn", "-s", "150", "-w", str(path), text], check=True,
                   stdout=subprocess.DEVNULL)
    with wave.open(str(path)) as track:
        return track.getnframes() / track.getframerate()


def join_audio(parts: list[Path], out: Path) -> None:
    """One narration track: the parts with a short pause after each (all espeak-ng WAVs share one format)."""
    with wave.open(str(parts[0])) as first:
        params = first.getparams()
    silence = b"\x00" * int(params.framerate * PAUSE_SECONDS) * params.sampwidth * params.nchannels
    with wave.open(str(out), "wb") as track:
        track.setparams(params)
        for part in parts:
            with wave.open(str(part)) as piece:
                track.writeframes(piece.readframes(piece.getnframes()))
            track.writeframes(silence)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    ffmpeg = need("ffmpeg")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        durations, voices, concat = [], [], []
        for number, (heading, lines, narration) in enumerate(SLIDES, start=1):
            slide, voice = tmp / f"slide{number}.png", tmp / f"voice{number}.wav"
            draw_slide(heading, lines, number, slide)
            seconds = speak(narration, voice) + PAUSE_SECONDS
            durations.append(seconds)
            voices.append(voice)
            concat += [f"file '{slide}'", f"duration {seconds:.3f}"]
        concat.append(f"file '{tmp / f'slide{len(SLIDES)}.png'}'")  # the concat demuxer needs the last file twice
        (tmp / "slides.txt").write_text("\n".join(concat) + "\n")
        join_audio(voices, tmp / "narration.wav")
        with wave.open(str(tmp / "narration.wav")) as track:
            total = track.getnframes() / track.getframerate()
        args.out.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([
            ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
            "-f", "concat", "-safe", "0", "-i", str(tmp / "slides.txt"), "-i", str(tmp / "narration.wav"),
            "-c:v", "libx264", "-preset", "veryslow", "-tune", "stillimage", "-crf", "30", "-r", "5",
            "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "32k", "-ac", "1", "-ar", "22050",
            "-movflags", "+faststart", "-t", f"{total:.2f}", "-map_metadata", "-1", "-fflags", "+bitexact",
            str(args.out),
        ], check=True)
    seconds = round(total)
    args.out.with_suffix(".json").write_text(json.dumps({"seconds": seconds}) + "\n")
    size = args.out.stat().st_size
    print(f"{args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}: {seconds} s, {size} bytes")
    if size > SIZE_LIMIT:
        sys.exit(f"The video is larger than {SIZE_LIMIT} bytes: shorten it or lower the quality.")


if __name__ == "__main__":
    main()
