"""Draw the site's favicon: three linked circles (community, social organisations, social workers) on the brand
green. Writes academy/static/academy/favicon.svg and favicon.ico (16, 32 and 48 px, drawn with Pillow).

    .venv/bin/python scripts/make_favicon.py
"""
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "academy" / "static" / "academy"
BRAND = "#0b6e4f"
# Three circles on a triangle, in a 64-unit square.
CIRCLES = [(32, 18), (18, 42), (46, 42)]
RADIUS = 8

SVG = f"""<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">
<rect width="64" height="64" rx="14" fill="{BRAND}"/>
<path d="M32 18 L18 42 L46 42 Z" fill="none" stroke="#fff" stroke-width="4" stroke-linejoin="round"/>
{"".join(f'<circle cx="{x}" cy="{y}" r="{RADIUS}" fill="#fff" stroke="{BRAND}" stroke-width="3"/>' for x, y in CIRCLES)}
</svg>
"""


def draw(size: int) -> Image.Image:
    scale = 4  # draw large, then shrink: smooth edges
    unit = size * scale / 64
    image = Image.new("RGBA", (size * scale, size * scale), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    pen.rounded_rectangle((0, 0, size * scale - 1, size * scale - 1), radius=14 * unit, fill=BRAND)
    pen.line([(x * unit, y * unit) for x, y in CIRCLES + CIRCLES[:1]], fill="white", width=round(4 * unit))
    for x, y in CIRCLES:
        box = ((x - RADIUS) * unit, (y - RADIUS) * unit, (x + RADIUS) * unit, (y + RADIUS) * unit)
        pen.ellipse(box, fill="white", outline=BRAND, width=max(1, round(3 * unit)))
    return image.resize((size, size), Image.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "favicon.svg").write_text(SVG, encoding="utf-8")
    big = draw(48)
    big.save(OUT / "favicon.ico", sizes=[(16, 16), (32, 32), (48, 48)], append_images=[draw(16), draw(32)])
    draw(180).save(OUT / "apple-touch-icon.png")


if __name__ == "__main__":
    main()
