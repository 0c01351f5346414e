"""The HTML report for QC sign-off: one self-contained page (inline CSS, thumbnails as data URIs).

The page opens with a table of every file (verdict, format, C2PA state, conflicts, failing rules),
each linking to its card; files a reviewer must look at come first. Passing files get a compact
card. The page is written file by file: each file's table row and card go to spool files as the
file arrives, so memory stays flat however many files there are; the page itself is written once
the last file is in, so a run that stops half-way never leaves a page headed PASS.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass
from html import escape
from typing import IO, TYPE_CHECKING, Any, TextIO
from urllib.parse import quote

from ..check import CheckReport, FileCheck, ReportHead, RuleOutcome, Summary, Verdict, summary_of
from ..display import show_value, terminal_text
from ..policy import Outcome

if TYPE_CHECKING:
    from ..signoff import SignoffDocument

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
.index{background:#fff;border-radius:8px;box-shadow:0 1px 3px #0002;table-layout:auto}
.index td,.index th{white-space:normal;padding:3px 6px} .index a{color:#1d2330}
.file{background:#fff;border-radius:8px;box-shadow:0 1px 3px #0002;margin:16px 0;padding:16px;display:grid;
grid-template-columns:200px minmax(0,1fr);gap:18px}
.file.compact{margin:6px 0;padding:6px 12px;grid-template-columns:56px minmax(0,1fr);gap:12px}
.thumb{width:192px;min-height:60px;align-self:start;display:flex;align-items:center;justify-content:center;
background:#e8ebf0;border-radius:6px;color:#667;font-size:12px;overflow:hidden}
.thumb img{max-width:192px;border-radius:6px}
.compact .thumb{width:56px;height:42px;min-height:0} .compact .thumb img{max-width:56px;max-height:42px}
.file h2{font-size:15px;margin:0 0 6px;word-break:break-all} .compact h2{font-size:14px;margin:0}
.badge{display:inline-block;border-radius:4px;padding:1px 8px;font-size:12px;font-weight:700;color:#fff}
.pass{background:#1f8a4c}.fail{background:#c62828}.error{background:#7b1fa2}.skipped{background:#8a8f99}
.warn{background:#d98e04}.na{background:#8a8f99}
.c2pa-trusted,.c2pa-valid{background:#1f8a4c}.c2pa-invalid{background:#c62828}.c2pa-none{background:#8a8f99}
table{border-collapse:collapse;width:100%;margin-top:8px;font-size:13px;table-layout:fixed}
td,th{border-bottom:1px solid #e3e6eb;padding:4px 6px;text-align:left;vertical-align:top;overflow-wrap:anywhere;
white-space:pre-wrap} .record th{width:170px}
.rules tr>*:nth-child(1){width:54px} .rules tr>*:nth-child(2){width:36%} .rules tr>*:nth-child(5){width:18%}
th{color:#556;font-weight:600} code{font-size:12px;word-break:break-all}
.meta{color:#667;font-size:12px;margin:2px 0} details{margin-top:6px} .compact details{margin-top:2px}
.notes{margin:6px 0;padding-left:18px} .notes li{margin:2px 0}
.signoff{background:#fff;border:2px solid #1d2330;border-radius:8px;padding:16px;margin:24px 0}
.signoff .line{display:inline-block;min-width:260px;border-bottom:1px solid #1d2330;margin:0 18px 0 6px}
.signoff.done{border-color:#1f8a4c} .signoff dl{display:grid;grid-template-columns:160px 1fr;gap:2px 12px}
.signoff dt{color:#556;font-weight:600} .signoff dd{margin:0;overflow-wrap:anywhere;white-space:pre-wrap}
.signoff-files tr>*:nth-child(1){width:130px} .signoff-files tr>*:nth-child(2){width:40%}
"""

_KIND = {Outcome.passed: "pass", Outcome.failed: "fail", Outcome.warned: "warn", Outcome.not_applicable: "na"}
#: Files a reviewer must look at come first.
_ORDER = {Verdict.error: 0, Verdict.failed: 1, Verdict.passed: 2, Verdict.skipped: 3}


def _text(value: Any) -> str:
    return escape(show_value(value))


def _badge(kind: str, label: str) -> str:
    return f'<span class="badge {escape(kind)}">{escape(label)}</span>'


def _c2pa_badge(file: FileCheck) -> str:
    state = file.c2pa.state.value if file.c2pa else "none"
    return _badge(f"c2pa-{state}", f"C2PA {state}")


def _failing(file: FileCheck) -> list[RuleOutcome]:
    problems = [r for r in file.results if r.outcome in (Outcome.failed, Outcome.warned)]
    return sorted(problems, key=lambda r: r.outcome is not Outcome.failed)


def _row(index: int, file: FileCheck) -> str:
    """The file's line in the table at the top of the page."""
    verdict = file.verdict.value
    failing = ", ".join(r.rule for r in file.results if r.outcome is Outcome.failed)
    conflicts = ", ".join(dict.fromkeys(c.field for c in file.conflicts))
    if file.reason:
        failing = terminal_text(file.reason)
    c2pa = file.c2pa.state.value if file.c2pa else ""
    return (
        f"<tr data-verdict='{verdict}'><td>{_badge(verdict, verdict.upper())}</td>"
        f"<td><a href='#f{index}'>{escape(terminal_text(file.path))}</a></td><td>{escape(file.format or '')}</td>"
        f"<td>{escape(c2pa)}</td><td>{escape(conflicts)}</td><td>{escape(failing)}</td></tr>"
    )


def _picture(file: FileCheck) -> str:
    picture = f'<img alt="" src="{escape(file.thumbnail)}">' if file.thumbnail else escape(file.format or "no preview")
    return f'<div class="thumb">{picture}</div>'


def _notes(file: FileCheck) -> str:
    """The C2PA state, carriers that disagree and values the record rejects, in words."""
    items = []
    c2pa = file.c2pa
    if c2pa is not None and c2pa.state.value != "none":
        who = f", signed by {c2pa.signer}" if c2pa.signer else ""
        when = f" at {c2pa.signed_at}" if c2pa.signed_at else ""
        why = f": {c2pa.message}" if c2pa.message else ""
        codes = f" ({', '.join(c2pa.codes)})" if c2pa.codes and c2pa.state.value == "invalid" else ""
        trust = " (signer not trusted: check with --trust)" if c2pa.state.value == "valid" else ""
        items.append(f"{_c2pa_badge(file)}{escape(f'{trust}{who}{when}{why}{codes}')}")
    for c in file.conflicts:
        items.append(
            f"{_badge('warn', 'conflict')} <b>{escape(c.field)}</b>: {escape(c.source)} says "
            f"<q>{_text(c.value)}</q>, {escape(c.other_source)} says <q>{_text(c.other_value)}</q>"
        )
    for p in file.problems:
        items.append(
            f"{_badge('fail', 'invalid')} <b>{escape(p.field)}</b> from {escape(p.source)}: "
            f"<q>{_text(p.value)}</q> ({escape(p.reason)}); not used"
        )
    return f"<ul class='notes'>{''.join(f'<li>{i}</li>' for i in items)}</ul>" if items else ""


def _rule_row(r: RuleOutcome) -> str:
    return (
        f"<tr class='rule' data-outcome='{r.outcome.value}'><td>{_badge(_KIND[r.outcome], r.outcome.value)}</td>"
        f"<td><code>{escape(r.rule)}</code><br>{escape(r.message)}</td><td>{escape(r.expected)}</td>"
        f"<td>{_text(r.actual)}</td><td class='meta'>{_text(r.carrier)}</td></tr>"
    )


_RULE_HEAD = "<tr><td></td><th>rule</th><th>expected</th><th>found</th><th>from</th></tr>"


def _details(file: FileCheck, outcomes: tuple[Outcome, ...], label: str) -> str:
    group = [r for r in file.results if r.outcome in outcomes]
    if not group:
        return ""
    rows = "".join(_rule_row(r) for r in group)
    return f"<details><summary>{len(group)} rule(s) {label}</summary><table class='rules'>{rows}</table></details>"


def _record(file: FileCheck) -> str:
    record = file.record or {}
    rows = "".join(f"<tr><th>{k}</th><td>{_text(record[k])}</td></tr>" for k in _KEY_FIELDS if k in record)
    return f'<table class="record">{rows or "<tr><td>no disclosure metadata</td></tr>"}</table>'


def _card(index: int, file: FileCheck) -> str:
    verdict = file.verdict.value
    title = f"<h2>{_badge(verdict, verdict.upper())} {escape(terminal_text(file.path))}</h2>"
    if file.reason:
        return (
            f'<section class="file compact" id="f{index}" data-verdict="{verdict}"><div class="thumb"></div>'
            f"<div>{title}<p class='meta'>{escape(terminal_text(file.reason))}</p></div></section>"
        )
    meta = f'<p class="meta">{escape(file.format or "")}, {file.size} bytes, sha256 <code>{_digest(file)}</code></p>'
    notes, failing = _notes(file), _failing(file)
    if file.verdict is Verdict.passed and not failing and not file.conflicts and not file.problems:
        inner = _record(file) + _details(file, (Outcome.passed, Outcome.not_applicable), "passed or not applicable")
        line = f"{escape(file.format or '')}, {file.size} bytes · {_c2pa_badge(file)}"
        return (
            f'<section class="file compact" id="f{index}" data-verdict="{verdict}">{_picture(file)}<div>{title}'
            f"<details><summary class='meta'>{line} · record, sha256 and rules</summary>"
            f"<p class='meta'>sha256 <code>{_digest(file)}</code></p>{notes}{inner}</details></div></section>"
        )
    out = [f'<section class="file" id="f{index}" data-verdict="{verdict}">{_picture(file)}<div>{title}{meta}']
    out.append(notes)
    out.append(_record(file))
    if failing:
        out.append(f"<table class='rules'>{_RULE_HEAD}{''.join(_rule_row(r) for r in failing)}</table>")
    out.append(_details(file, (Outcome.passed,), "passed"))
    out.append(_details(file, (Outcome.not_applicable,), "not applicable"))
    out.append("</div></section>")
    return "".join(out)


class _Spools:
    """One temporary file per verdict group, so the page can list failing files first without keeping them."""

    def __init__(self, stack: ExitStack) -> None:
        self._stack = stack
        self._files: dict[int, IO[str]] = {}

    def write(self, group: int, text: str) -> None:
        if group not in self._files:
            spool = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 (the stack closes it)
            self._files[group] = self._stack.enter_context(spool)
        self._files[group].write(text)

    def copy_to(self, stream: TextIO) -> None:
        for group in sorted(self._files):
            spool = self._files[group]
            spool.seek(0)
            shutil.copyfileobj(spool, stream)


def write_html(report: CheckReport, stream: TextIO, color: bool) -> None:
    write_html_stream(report.files, ReportHead.of(report), stream, color, lambda: report.duration_s)


@dataclass(frozen=True)
class SignoffView:
    """A QC sign-off to show in place of the blank box: the document, where it is, and its signature's state."""

    document: SignoffDocument
    href: str  # the document's path relative to the page (a path, never a URL)
    signature: str  # in words: unsigned, or who signed it and who vouches for them


def document_href(relative_path: str) -> str:
    """A link to a file by its relative path: every character a URL could read as a scheme or query quoted."""
    quoted = quote(relative_path.replace("\\", "/"), safe="/")
    return quoted if quoted.startswith(("./", "../")) else "./" + quoted.lstrip("/")


def write_html_stream(
    files: Iterable[FileCheck],
    head: ReportHead,
    stream: TextIO,
    color: bool,
    seconds: Callable[[], float],
    signoff: Callable[[], SignoffView | None] | None = None,
) -> Summary:
    """The page, each file's row and card spooled as it comes; only the verdicts stay in memory.

    ``signoff``, asked once the last file is in, gives the QC sign-off the page's foot shows.
    """
    verdicts = []
    digests: set[str] = set()  # what the page shows approved is shown as approved only if a file here has it
    with ExitStack() as stack:
        rows, cards = _Spools(stack), _Spools(stack)
        for index, file in enumerate(files):
            group = _ORDER[file.verdict]
            rows.write(group, _row(index, file))
            cards.write(group, _card(index, file))
            verdicts.append(file.verdict)
            if file.sha256 is not None:
                digests.add(file.sha256)
        s = summary_of(verdicts)
        stream.write(_page_head(head, s, seconds()))
        stream.write(
            "<table class='index'><thead><tr><th>verdict</th><th>file</th><th>format</th><th>C2PA</th>"
            "<th>conflicts</th><th>failing rules</th></tr></thead><tbody>"
        )
        rows.copy_to(stream)
        stream.write("</tbody></table>")
        cards.copy_to(stream)
        stream.write(_page_foot(s, signoff() if signoff is not None else None, digests))
    return s


def _page_head(head: ReportHead, s: Summary, seconds: float) -> str:
    policies = "".join(
        f"<p>Policy <b>{escape(p.name)}</b> sha256 <code>{p.sha256}</code>"
        + "".join(f"<br><small>source: {_text(r)}</small>" for r in p.references)
        + "</p>"
        for p in head.policies
    )
    verdict = "pass" if s.exit_code == 0 else "fail"  # nothing checked at all is not a pass either
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>aidisclose QC report {escape(head.started_at)}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>AI disclosure QC report {_badge(verdict, verdict.upper())}</h1>{policies}"
        f"<p>aidisclose {escape(head.tool_version)} · run {escape(head.started_at)} · "
        f"{seconds:.2f} s{' · strict (warnings fail)' if head.strict else ''}</p></header><main>"
        f"<p class='summary'><span>{s.files} file(s)</span><span style='color:#1f8a4c'>{s.passed} passed</span>"
        f"<span style='color:#c62828'>{s.failed} failed</span><span>{s.errors} errors</span>"
        f"<span>{s.skipped} skipped</span></p>"
    )


def _signoff_section(view: SignoffView, digests: set[str]) -> str:
    """The sign-off as recorded: reviewer, time, signature, a link to the document, the files and their digests."""
    doc = view.document
    facts = [
        ("Reviewer", doc.reviewer),
        ("Role", doc.role or ""),
        ("Signed off", doc.signed_off_at),
        ("Notes", doc.notes or ""),
        ("Signature", view.signature),
        ("Policies", "; ".join(f"{p.name} (sha256 {p.sha256})" for p in doc.policies)),
    ]
    rows = "".join(f"<dt>{escape(k)}</dt><dd>{_text(v)}</dd>" for k, v in facts)
    approved = "".join(
        f"<tr data-approved='yes' data-in-report='yes'><td>{_badge(f.verdict.value, 'APPROVED')}</td>"
        f"<td>{_text(f.path)}</td><td><code>{escape(f.sha256_after)}</code></td></tr>"
        if f.sha256_after in digests
        else f"<tr data-approved='yes' data-in-report='no'><td>{_badge('fail', 'NOT AS APPROVED')}</td>"
        f"<td>{_text(f.path)}</td><td><code>{escape(f.sha256_after)}</code>: no file in this report has this "
        "sha256 (changed since the sign-off, or not checked here)</td></tr>"
        for f in doc.files
    )
    refused = "".join(
        f"<tr data-approved='no'><td>{_badge(f.verdict.value, 'NOT APPROVED')}</td><td>{_text(f.path)}</td>"
        f"<td>{_text(f.reason)}</td></tr>"
        for f in doc.not_approved
    )
    return (
        "<section class='signoff done' id='signoff'><h2>QC sign-off</h2>"
        f'<p><a href="{escape(view.href)}">sign-off document</a> · {len(doc.files)} file(s) approved, '
        f"{len(doc.not_approved)} not approved</p><dl>{rows}</dl>"
        f"<table class='signoff-files'><tr><th></th><th>file</th><th>sha256 after / why not</th></tr>"
        f"{approved}{refused}</table></section>"
    )


def _page_foot(s: Summary, signoff: SignoffView | None = None, digests: set[str] | None = None) -> str:
    if signoff is not None:
        return (
            f"{_signoff_section(signoff, digests or set())}</main><footer>Every file is identified by its sha256; "
            "policies by theirs. "
            f"Files {s.files - s.skipped} checked.</footer></body></html>\n"
        )
    return (
        "<section class='signoff'><h2>QC sign-off</h2>"
        f"<p>I have reviewed the {s.files} file(s) above against the policies named in this report.</p>"
        "<p>Reviewer<span class='line'></span> Role<span class='line'></span></p>"
        "<p>Date<span class='line'></span> Signature<span class='line'></span></p>"
        "<p>Decision: ☐ accept delivery ☐ accept with notes ☐ reject</p>"
        "<p>Notes<span class='line' style='min-width:700px'></span></p></section>"
        f"</main><footer>Every file is identified by its sha256; policies by theirs. "
        f"Files {s.files - s.skipped} checked.</footer></body></html>\n"
    )


def _digest(file: FileCheck) -> str:
    return file.sha256 or "not computed (--digest none)"
