#!/usr/bin/env python3
"""Regenerate the small media fixtures in fixtures/ (origin of every fixture file).

Images are drawn with Pillow (a gradient, so a changed pixel shows). The JPEG
also gets camera EXIF (Pillow) and one unrelated XMP property (pyexiv2), which
stamping must keep. Audio is a one-second 440 Hz tone encoded by ffmpeg, with
the tags, cover art and chunks a real delivery carries, which stamping must
keep. Run: .venv/bin/python scripts/make_fixtures.py (needs ffmpeg).
"""

from __future__ import annotations

import struct
import subprocess
import tempfile
from pathlib import Path

import pyexiv2
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent / "fixtures"
IMAGES = ROOT / "images"
AUDIO = ROOT / "audio"
VIDEO = ROOT / "video"
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


TONE = ["-f", "lavfi", "-i", "sine=frequency=440:duration=1:sample_rate=22050"]
TAGS = ["-metadata", "title=Fixture Tone", "-metadata", "artist=Fixture Artist", "-metadata", "comment=keep me"]


def ffmpeg(*args: str | Path) -> None:
    """Run ffmpeg; the last argument is the output, written bit-exact so reruns give the same bytes."""
    *options, output = map(str, args)
    cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *options]
    subprocess.run([*cmd, "-fflags", "+bitexact", "-flags", "+bitexact", output], check=True)


def riff_chunk(fourcc: bytes, payload: bytes) -> bytes:
    return fourcc + struct.pack("<I", len(payload)) + payload + (b"\0" if len(payload) % 2 else b"")


def add_wav_chunks(path: Path) -> None:
    """Append an iXML chunk and an odd-length unknown chunk, by hand, and fix the RIFF size."""
    data = path.read_bytes()
    data += riff_chunk(b"iXML", b"<BWFXML><PROJECT>fixture</PROJECT></BWFXML>")
    data += riff_chunk(b"zzzz", b"unknown chunk, odd length")
    path.write_bytes(data[:4] + struct.pack("<I", len(data) - 8) + data[8:])


def make_audio() -> None:
    AUDIO.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        cover = Path(tmp) / "cover.png"
        Image.new("RGB", (16, 16), (200, 30, 30)).save(cover)
        art = ["-i", cover, "-map", "0:a", "-map", "1:v", "-c:v", "png", "-disposition:v", "attached_pic"]
        ffmpeg(*TONE, *art, "-c:a", "libmp3lame", "-b:a", "32k", "-id3v2_version", "3", *TAGS, AUDIO / "tone.mp3")
        ffmpeg(*TONE, *art, "-c:a", "flac", *TAGS, AUDIO / "tone.flac")
        ffmpeg(*TONE, *art, "-c:a", "aac", "-b:a", "32k", *TAGS, AUDIO / "tone.m4a")
    ffmpeg(*TONE, "-c:a", "pcm_s16le", "-write_bext", "1", *TAGS, AUDIO / "tone.wav")
    add_wav_chunks(AUDIO / "tone.wav")
    ffmpeg(*TONE, "-c:a", "libvorbis", "-q:a", "0", *TAGS, AUDIO / "tone.ogg")
    ffmpeg(*TONE, "-c:a", "libopus", "-b:a", "16k", *TAGS, AUDIO / "tone.opus")


def make_video() -> None:
    """Half a second of test pattern + tone: MP4 (moov first), fragmented MP4, MOV, M4V, Matroska."""
    VIDEO.mkdir(parents=True, exist_ok=True)
    source = [
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=64x48:rate=10:duration=0.5",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=0.5:sample_rate=22050",
    ]
    codecs = ["-c:v", "mpeg4", "-q:v", "8", "-c:a", "aac", "-b:a", "32k", "-shortest"]
    ffmpeg(*source, *codecs, *TAGS, "-movflags", "+faststart", VIDEO / "clip.mp4")
    ffmpeg(*source, *codecs, "-movflags", "frag_keyframe+empty_moov", VIDEO / "fragmented.mp4")
    ffmpeg(*source, *codecs, *TAGS, VIDEO / "clip.mov")
    ffmpeg(*source, *codecs, "-f", "ipod", VIDEO / "clip.m4v")
    ffmpeg(*source, "-c:v", "mpeg4", "-q:v", "8", "-c:a", "libvorbis", "-shortest", *TAGS, VIDEO / "clip.mkv")


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
    make_audio()
    make_video()
    for path in sorted([*IMAGES.iterdir(), *AUDIO.iterdir(), *VIDEO.iterdir()]):
        print(f"{path.relative_to(ROOT.parent)}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
