"""The HTML report for QC sign-off: one self-contained page (inline CSS, thumbnails as data URIs)."""

from __future__ import annotations

import base64
import io
import shutil
import subprocess
from html import escape
from pathlib import Path
from typing import Any, TextIO

from ..check import CheckReport, FileCheck, RuleOutcome, Verdict
from ..display import show_value
from ..formats import BY_NAME, MediaFormat, Preview
from ..policy import Outcome

THUMB = 192
#: Record fields a QC reviewer looks at first, in this order.
_KEY_FIELDS = [
    "title", "asset_id", "deliverable", "ai_used", "digital_source_type", "ai_systems", "ai_credit_line",
    "human_review", "approval_reference", "likeness", "synthetic_content", "training_mining",
]  # fmt: skip

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}
header,footer{background:#1d2330;color:#fff;padding:16px 28px}
header h1{margin:0 0 6px;font-size:20px} header p{margin:2px 0;color:#c9cfdb}
main{padding:20px 28px;max-width:1200px}
.summary span{display:inline-block;margin-right:14px;font-weight:600}
.file{background:#fff;border-radius:8px;box-shadow:0 1px 3px #0002;margin:16px 0;padding:16px;display:grid;
grid-template-columns:200px minmax(0,1fr);gap:18px}
.thumb{width:192px;min-height:60px;align-self:start;display:flex;align-items:center;justify-content:center;
background:#e8ebf0;border-radius:6px;color:#667;font-size:12px} .thumb img{max-width:192px;border-radius:6px}
.file h2{font-size:15px;margin:0 0 6px;word-break:break-all}
.badge{display:inline-block;border-radius:4px;padding:1px 8px;font-size:12px;font-weight:700;color:#fff}
.pass{background:#1f8a4c}.fail{background:#c62828}.error{background:#7b1fa2}.skipped{background:#8a8f99}
.warn{background:#d98e04}.na{background:#8a8f99}
table{border-collapse:collapse;width:100%;margin-top:8px;font-size:13px;table-layout:fixed}
td,th{border-bottom:1px solid #e3e6eb;padding:4px 6px;text-align:left;vertical-align:top;overflow-wrap:anywhere;
white-space:pre-wrap} .record th{width:170px}
.rules tr>*:nth-child(1){width:54px} .rules tr>*:nth-child(2){width:36%} .rules tr>*:nth-child(5){width:18%}
th{color:#556;font-weight:600} code{font-size:12px;word-break:break-all}
.meta{color:#667;font-size:12px} details{margin-top:6px}
.signoff{background:#fff;border:2px solid #1d2330;border-radius:8px;padding:16px;margin:24px 0}
.signoff .line{display:inline-block;min-width:260px;border-bottom:1px solid #1d2330;margin:0 18px 0 6px}
"""


def _preview(fmt: str | None) -> Preview:
    try:
        return BY_NAME[MediaFormat(fmt or "")].preview
    except ValueError:
        return Preview.NONE


def thumbnail(path: Path, fmt: str | None) -> str | None:
    """A PNG data URI: pixels for images, a poster frame for video when ffmpeg is present."""
    png: bytes | None = None
    preview = _preview(fmt)
    if preview is Preview.PIXELS:
        try:
            from PIL import Image

            with Image.open(path) as image:
                image.thumbnail((THUMB, THUMB))
                buffer = io.BytesIO()
                image.convert("RGBA").save(buffer, "PNG")
                png = buffer.getvalue()
        except (OSError, ValueError):
            png = None
    elif preview is Preview.FFMPEG and shutil.which("ffmpeg"):
        cmd = ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-frames:v", "1"]
        cmd += ["-vf", f"scale={THUMB}:-2", "-f", "image2pipe", "-c:v", "png", "-"]
        try:
            run = subprocess.run(cmd, capture_output=True, timeout=30, check=False)
            png = run.stdout if run.returncode == 0 and run.stdout else None
        except (OSError, subprocess.TimeoutExpired):
            png = None
    return "data:image/png;base64," + base64.b64encode(png).decode() if png else None


def _text(value: Any) -> str:
    return escape(show_value(value))


def _badge(kind: str, label: str) -> str:
    return f'<span class="badge {kind}">{escape(label)}</span>'


def _file(file: FileCheck) -> str:
    verdict = file.verdict.value
    thumb = thumbnail(Path(file.path), file.format)
    picture = f'<img alt="" src="{thumb}">' if thumb else escape(file.format or "no preview")
    out = [f'<section class="file" data-verdict="{verdict}"><div class="thumb">{picture}</div><div>']
    out.append(f"<h2>{_badge(verdict, verdict.upper())} {escape(file.path)}</h2>")
    if file.reason:
        out.append(f"<p>{escape(file.reason)}</p></div></section>")
        return "".join(out)
    out.append(f'<p class="meta">{escape(file.format or "")}, {file.size} bytes, sha256 <code>{file.sha256}</code></p>')
    record = file.record or {}
    rows = "".join(f"<tr><th>{k}</th><td>{_text(record[k])}</td></tr>" for k in _KEY_FIELDS if k in record)
    out.append(f'<table class="record">{rows or "<tr><td>no disclosure metadata</td></tr>"}</table>')
    problems = [r for r in file.results if r.outcome in (Outcome.failed, Outcome.warned)]
    problems.sort(key=lambda r: r.outcome is not Outcome.failed)
    if problems:
        head = "<tr><td></td><th>rule</th><th>expected</th><th>found</th><th>from</th></tr>"
        out.append(f"<table class='rules'>{head}{''.join(_rule_row(r) for r in problems)}</table>")
    for outcome, label in ((Outcome.passed, "passed"), (Outcome.not_applicable, "not applicable")):
        group = [r for r in file.results if r.outcome is outcome]
        if group:
            rows = "".join(_rule_row(r) for r in group)
            summary = f"<summary>{len(group)} rule(s) {label}</summary>"
            out.append(f"<details>{summary}<table class='rules'>{rows}</table></details>")
    out.append("</div></section>")
    return "".join(out)


_KIND = {Outcome.passed: "pass", Outcome.failed: "fail", Outcome.warned: "warn", Outcome.not_applicable: "na"}
#: Files a reviewer must look at come first.
_ORDER = {Verdict.error: 0, Verdict.failed: 1, Verdict.passed: 2, Verdict.skipped: 3}


def _rule_row(r: RuleOutcome) -> str:
    return (
        f"<tr class='rule' data-outcome='{r.outcome.value}'><td>{_badge(_KIND[r.outcome], r.outcome.value)}</td>"
        f"<td><code>{escape(r.rule)}</code><br>{escape(r.message)}</td><td>{escape(r.expected)}</td>"
        f"<td>{_text(r.actual)}</td><td class='meta'>{_text(r.carrier)}</td></tr>"
    )


def write_html(report: CheckReport, stream: TextIO, color: bool) -> None:
    s = report.summary
    policies = "".join(f"<p>Policy <b>{escape(p.name)}</b> sha256 <code>{p.sha256}</code></p>" for p in report.policies)
    verdict = "pass" if s.exit_code == 0 else "fail"  # nothing checked at all is not a pass either
    stream.write(
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>aidisclose QC report {escape(report.started_at)}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>AI disclosure QC report {_badge(verdict, verdict.upper())}</h1>{policies}"
        f"<p>aidisclose {escape(report.tool_version)} · run {escape(report.started_at)} · "
        f"{report.duration_s:.2f} s{' · strict (warnings fail)' if report.strict else ''}</p></header><main>"
        f"<p class='summary'><span>{s.files} file(s)</span><span style='color:#1f8a4c'>{s.passed} passed</span>"
        f"<span style='color:#c62828'>{s.failed} failed</span><span>{s.errors} unreadable</span>"
        f"<span>{s.skipped} skipped</span></p>"
    )
    for file in sorted(report.files, key=lambda f: _ORDER[f.verdict]):
        stream.write(_file(file))
    stream.write(
        "<section class='signoff'><h2>QC sign-off</h2>"
        f"<p>I have reviewed the {s.files} file(s) above against the policies named in this report.</p>"
        "<p>Reviewer<span class='line'></span> Role<span class='line'></span></p>"
        "<p>Date<span class='line'></span> Signature<span class='line'></span></p>"
        "<p>Decision: ☐ accept delivery ☐ accept with notes ☐ reject</p>"
        "<p>Notes<span class='line' style='min-width:700px'></span></p></section>"
        f"</main><footer>Every file is identified by its sha256; policies by theirs. "
        f"Files {sum(f.verdict is not Verdict.skipped for f in report.files)} checked.</footer></body></html>\n"
    )
