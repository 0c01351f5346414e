#!/usr/bin/env python3
"""Regenerate the small media fixtures in fixtures/ (origin of every fixture file).

Images are drawn with Pillow (a gradient, so a changed pixel shows). The JPEG
also gets camera EXIF (Pillow) and one unrelated XMP property (pyexiv2), which
stamping must keep. Run: .venv/bin/python scripts/make_fixtures.py
"""

from __future__ import annotations

from pathlib import Path

import pyexiv2
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent / "fixtures"
IMAGES = ROOT / "images"
SIZE = (64, 48)


def gradient(mode: str = "RGB") -> Image.Image:
    image = Image.new(mode, SIZE)
    for x in range(SIZE[0]):
        for y in range(SIZE[1]):
            colour = (x * 4 % 256, y * 5 % 256, (x + y) * 3 % 256)
            image.putpixel((x, y), (*colour, 200) if mode == "RGBA" else colour)
    return image


def camera_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "FixtureCam"  # Make
    exif[0x0110] = "Model 1"  # Model
    exif[0x0131] = "make_fixtures.py"  # Software
    ifd = exif.get_ifd(0x8769)  # Exif IFD
    ifd[0x9003] = "2026:09:30 12:00:00"  # DateTimeOriginal
    return exif


def main() -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    photo = IMAGES / "photo.jpg"
    gradient().save(photo, quality=90, exif=camera_exif())
    with pyexiv2.Image(str(photo)) as image:
        image.modify_xmp(
            {
                "Xmp.xmp.CreatorTool": "FixtureCam firmware 1.0",
                "Xmp.dc.description": {'lang="x-default"': "Test chart for aidisclose"},
            }
        )
    gradient("RGBA").save(IMAGES / "overlay.png")
    gradient().save(IMAGES / "plate.tif", compression="tiff_lzw")
    gradient().save(IMAGES / "still.webp", lossless=True)
    for path in sorted(IMAGES.iterdir()):
        print(f"{path.relative_to(ROOT.parent)}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
