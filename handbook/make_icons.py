"""Draw the work manual's app icons (committed PNGs in handbook/static/handbook/icons/):

    .venv/bin/python -m handbook.make_icons

An open book in white on the brand green with 手册 under it, in the project's own CJK font (academy/fonts).
icon-192.png and icon-512.png have rounded corners; icon-maskable-512.png fills the square and keeps the drawing
inside the central 80 % safe zone that launchers may crop to a circle.
"""
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from academy.fonts import FONT_PATH

OUT = Path(__file__).resolve().parent / "static" / "handbook" / "icons"
GREEN = (11, 110, 79, 255)
WHITE = (255, 255, 255, 255)


def draw(size: int, *, maskable: bool) -> Image.Image:
    scale = 4  # draw large, then shrink: smooth edges
    big = size * scale
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    if maskable:
        pen.rectangle((0, 0, big, big), fill=GREEN)
        inset = big * 0.2
    else:
        pen.rounded_rectangle((0, 0, big - 1, big - 1), radius=big * 0.2, fill=GREEN)
        inset = big * 0.12
    box = big - 2 * inset
    # the book: two pages as slanted quadrilaterals meeting at the spine
    top, bottom, mid = inset + box * 0.08, inset + box * 0.52, big / 2
    left, right = inset + box * 0.06, big - inset - box * 0.06
    pen.polygon([(left, top + box * 0.04), (mid - box * 0.02, top + box * 0.1), (mid - box * 0.02, bottom),
                 (left, bottom - box * 0.05)], fill=WHITE)
    pen.polygon([(right, top + box * 0.04), (mid + box * 0.02, top + box * 0.1), (mid + box * 0.02, bottom),
                 (right, bottom - box * 0.05)], fill=WHITE)
    for row in range(3):  # lines of text on the pages
        y = top + box * (0.18 + 0.09 * row)
        pen.line((left + box * 0.07, y, mid - box * 0.09, y + box * 0.012), fill=GREEN, width=max(2, big // 90))
        pen.line((mid + box * 0.09, y + box * 0.012, right - box * 0.07, y), fill=GREEN, width=max(2, big // 90))
    font = ImageFont.truetype(str(FONT_PATH), int(box * 0.3))
    text = "手册"
    width = pen.textlength(text, font=font)
    pen.text(((big - width) / 2, inset + box * 0.6), text, font=font, fill=WHITE)
    return image.resize((size, size), Image.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        draw(size, maskable=False).save(OUT / f"icon-{size}.png", optimize=True)
    draw(512, maskable=True).save(OUT / "icon-maskable-512.png", optimize=True)
    for path in sorted(OUT.glob("*.png")):
        print(path.name, path.stat().st_size)


if __name__ == "__main__":
    main()
