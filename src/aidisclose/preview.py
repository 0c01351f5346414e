"""Thumbnails for the HTML report, made in the worker process that reads the file anyway.

A thumbnail is a convenience: whatever the file holds, making one never raises and never
takes more than a bounded amount of memory or time. A file it cannot be made for has none.
"""

from __future__ import annotations

import base64
import io
import shutil
import subprocess
from pathlib import Path

from .formats import BY_NAME, MediaFormat, Preview

THUMB = 192
#: Images whose header claims more pixels than this are not decoded (a 20000x20000 PNG header
#: would ask for 1.6 GB); the largest camera stills have about 100 million.
MAX_PIXELS = 120_000_000
FFMPEG_SECONDS = 30
_BACKGROUND = (232, 235, 240)


def _preview(fmt: str | None) -> Preview:
    try:
        return BY_NAME[MediaFormat(fmt or "")].preview
    except ValueError:
        return Preview.NONE


def _pixels(path: Path) -> bytes | None:
    from PIL import Image

    with Image.open(path) as image:  # reads the header only
        width, height = image.size
        if width <= 0 or height <= 0 or width * height > MAX_PIXELS:
            return None
        image.draft("RGB", (THUMB, THUMB))  # JPEG decodes at a fraction of its size
        image.thumbnail((THUMB, THUMB))
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, _BACKGROUND)  # transparency shown on the report's own grey
        flat.paste(rgba, mask=rgba.getchannel("A"))
        jpeg, png = io.BytesIO(), io.BytesIO()
        flat.save(jpeg, "JPEG", quality=80)
        flat.save(png, "PNG", optimize=True)
        return min(jpeg.getvalue(), png.getvalue(), key=len)  # PNG wins for flat art and tiny images


#: The one demuxer ffmpeg may use for each format it draws: never its own guess from the bytes, which a
#: planted playlist (HLS, concat, image2 "%d" sequences) would turn into reading other files on this machine.
DEMUXERS = {
    MediaFormat.MOV: "mov",
    MediaFormat.M4V: "mov",
    MediaFormat.MP4: "mov",
    MediaFormat.MATROSKA: "matroska",
    MediaFormat.MXF: "mxf",
    MediaFormat.EXR: "exr_pipe",
    MediaFormat.DPX: "dpx_pipe",
    MediaFormat.JXL: "jpegxl_pipe",
    MediaFormat.JXL_CODESTREAM: "jpegxl_pipe",
    MediaFormat.AVI: "avi",
}


def _poster(path: Path, fmt: MediaFormat) -> bytes | None:
    if not shutil.which("ffmpeg") or fmt not in DEMUXERS:
        return None
    # As a "file:" URL of the absolute path, only the file protocol allowed: a name such as
    # "concat:a.mov|b.mov" or "http://..." is a file name, never a protocol ffmpeg opens instead;
    # and the demuxer is the format's own, never probed.
    source = "file:" + str(path.absolute())
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-protocol_whitelist", "file", "-f", DEMUXERS[fmt]]
    cmd += ["-i", source, "-frames:v", "1"]
    cmd += ["-vf", f"scale={THUMB}:-2", "-f", "image2pipe", "-c:v", "mjpeg", "-q:v", "5", "-"]
    run = subprocess.run(cmd, capture_output=True, timeout=FFMPEG_SECONDS, check=False)
    return run.stdout if run.returncode == 0 and run.stdout else None


def thumbnail(path: Path, fmt: str | None) -> str | None:
    """A JPEG or PNG data URI: pixels for images, a poster frame for video when ffmpeg is present; else None."""
    preview = _preview(fmt)
    try:
        if preview is Preview.PIXELS:
            picture = _pixels(path)
        elif preview is Preview.FFMPEG:
            picture = _poster(path, MediaFormat(fmt or ""))
        else:
            return None
    except Exception:  # a damaged or hostile file: no picture, never a failed report
        return None
    if not picture:
        return None
    mime = "image/png" if picture.startswith(b"\x89PNG") else "image/jpeg"
    return f"data:{mime};base64," + base64.b64encode(picture).decode()
