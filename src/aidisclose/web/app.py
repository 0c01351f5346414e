"""The pages of ``aidisclose serve``: record editor, stamp, inspect and review, over the library's own functions.

Pages are rendered on the server (Jinja2, autoescaped: every value from a file is text); htmx, served
from the package, swaps the parts that change. Every path a request names goes through ``confined``.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..display import show_value, terminal_text
from ..errors import DisclosureError
from . import forms, signoff
from .jobs import StampRuns
from .paths import INCOMING, OutsideRoot, confined, new_file, relative_name, safe_upload_name
from .security import CSRF_FIELD, Guard, GuardMiddleware
from .tomlwriter import record_toml, toml_text

MAX_LISTED = 2000  # files listed in a picker
MAX_FORM_FIELDS = 2000
RECORD_SUFFIXES = (".toml", ".json")
SIDECAR_SUFFIXES = (".xmp", ".c2pa")
MAX_REVIEWS_KEPT = 20
SIGNOFFS = "signoffs"  # where sign-off documents are written, under the root


@dataclass
class Settings:
    """What ``aidisclose serve`` was started with."""

    root: Path  # resolved
    guard: Guard
    max_upload: int = 512 << 20
    sign_cert: Path | None = None
    sign_key: Path | None = None
    trust: Path | None = None

    @property
    def can_sign(self) -> bool:
        return self.sign_cert is not None and self.sign_key is not None


@dataclass
class Review:
    id: str
    folder: str
    policies: list[str]
    report: Any  # CheckReport
    started: str
    signoffs: list[dict[str, Any]] = field(default_factory=list)


class State:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.media_lock = threading.Lock()  # exiv2 and the C2PA SDK read and write one file at a time
        self.stamps = StampRuns(self.media_lock)
        self.reviews: dict[str, Review] = {}
        self.lock = threading.Lock()
        self.fields = forms.record_form()


def _env() -> Environment:
    env = Environment(loader=PackageLoader("aidisclose.web", "templates"), autoescape=select_autoescape(default=True))
    env.filters["shown"] = lambda v: show_value(v)
    env.filters["one_line"] = lambda v: terminal_text(str(v)) if v is not None else ""
    env.filters["one_line_block"] = lambda v: terminal_text(str(v), keep_newlines=True)
    env.globals.update(dotted=forms.dotted, value_at=forms.value_at, input_value=forms.shown, error_id=forms.error_id)
    return env


# -- helpers ------------------------------------------------------------------------------------------------


def _state(request: Request) -> State:
    state: State = request.app.state.aidisclose
    return state


def _render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    state = _state(request)
    page = request.app.state.templates.get_template(template).render(
        csrf=state.settings.guard.csrf, root=str(state.settings.root), can_sign=state.settings.can_sign, **context
    )
    return HTMLResponse(page, status_code=status)


async def _form(request: Request) -> FormData:
    """The posted form, after its CSRF token (header or field) is checked."""
    state = _state(request)
    form = await request.form(max_files=100, max_fields=MAX_FORM_FIELDS)
    from_header = state.settings.guard.csrf_ok(request.headers.get("x-csrf-token"))
    given = form.get(CSRF_FIELD)
    if not from_header and not state.settings.guard.csrf_ok(given if isinstance(given, str) else None):
        raise HTTPException(403, "refused: the form's CSRF token is missing or wrong; reload the page")
    return form


def _texts(form: FormData) -> dict[str, str]:
    return {k: v for k, v in form.multi_items() if isinstance(v, str)}


def _path(request: Request, relative: str) -> Path:
    try:
        return confined(_state(request).settings.root, relative)
    except OutsideRoot as err:
        raise HTTPException(403, f"refused: {err.one_line()}") from None


def _addressable(name: str) -> bool:
    """A name a page can show and send back: UTF-8 (a name that is not has no form in a URL or a form field)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _listing(root: Path) -> tuple[list[str], list[str], list[str]]:
    """Media-like files, record files and folders under ``root`` (hidden ones, symlinks and names that are not
    UTF-8 left out; the check and stamp commands reach those)."""
    media: list[str] = []
    records: list[str] = []
    folders: list[str] = ["."]
    for here, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = sorted(
            d for d in dirs if not d.startswith(".") and not os.path.islink(os.path.join(here, d)) and _addressable(d)
        )
        base = Path(here)
        if not _addressable(here):
            continue
        folders += [relative_name(root, base / d) for d in dirs]
        for name in sorted(files):
            path = base / name
            if name.startswith(".") or path.is_symlink() or not _addressable(name):
                continue
            if name.lower().endswith(RECORD_SUFFIXES):
                if not relative_name(root, path).startswith(SIGNOFFS + "/"):  # sign-off documents are no records
                    records.append(relative_name(root, path))
            elif not name.lower().endswith(SIDECAR_SUFFIXES):
                media.append(relative_name(root, path))
        if len(media) + len(records) + len(folders) > MAX_LISTED:
            break
    return media[:MAX_LISTED], records[:MAX_LISTED], folders[:MAX_LISTED]


# -- pages ----------------------------------------------------------------------------------------------------


def home(request: Request) -> Response:
    return _render(request, "home.html", page="home")


def record_page(request: Request) -> Response:
    state = _state(request)
    data: dict[str, Any] = {"schema_version": 1}
    told: list[str] = []
    source = ""
    load, start = request.query_params.get("load"), request.query_params.get("from")
    if load:
        from ..record import load_record_data

        path = _path(request, load)
        source = relative_name(state.settings.root, path)
        try:
            data, _ = load_record_data(path)
        except DisclosureError as err:
            told.append(err.one_line())
    elif start:
        from ..inspect import inspect_file

        path = _path(request, start)
        source = relative_name(state.settings.root, path)
        try:
            with state.media_lock:
                data = {"schema_version": 1, **inspect_file(path, technical=False).record.to_json_dict()}
        except DisclosureError as err:
            told.append(err.one_line())
    _, records, _ = _listing(state.settings.root)
    return _editor(request, "record.html", data, told, source=source, records=records)


def _editor(request: Request, template: str, data: dict[str, Any], told: list[str], **extra: Any) -> HTMLResponse:
    state = _state(request)
    checked = forms.check_data(data)
    inline, rest = forms.placed_problems(state.fields, checked)
    preview = record_toml(checked.record) if checked.record else toml_text(data)
    return _render(
        request, template, page="record", fields=state.fields, data=data, inline=inline, rest=rest + told,
        checked=checked, preview=preview, names=list(forms.input_names(state.fields, data)), **extra,
    )  # fmt: skip


async def record_form(request: Request) -> Response:
    """The editor again after a list item was added or removed."""
    state = _state(request)
    form = _texts(await _form(request))
    data = forms.edited(forms.form_data(state.fields, form), form.get("__action", ""))
    return _editor(request, "_editor.html", data, [])


async def record_preview(request: Request) -> Response:
    """The TOML preview and every field's inline error, for the form as it is now."""
    state = _state(request)
    data = forms.form_data(state.fields, _texts(await _form(request)))
    return _editor(request, "_preview.html", data, [])


async def record_save(request: Request) -> Response:
    state = _state(request)
    form = _texts(await _form(request))
    data = forms.form_data(state.fields, form)
    checked = forms.check_data(data)
    target = form.get("__save_as", "").strip()
    if checked.record is None:
        message, ok = f"not saved: the record has {checked.count} problem(s), shown beside the fields", False
    elif not target.endswith(".toml"):
        message, ok = "not saved: name a .toml file under the root folder", False
    else:
        path = _path(request, target)
        message, ok = _save(path, checked.record, form.get("__replace") == "on", state.settings.root)
    return _editor(request, "_preview.html", data, [], saved=message, saved_ok=ok)


def _save(path: Path, record: Any, replace: bool, root: Path) -> tuple[str, bool]:
    from ..record import load_record

    shown = relative_name(root, path)
    if path.suffix != ".toml":  # ``path`` is resolved: a ``name.toml`` symlink to a picture names the picture
        return f"not saved: {shown} is not a .toml file (a symlink?); name a .toml file under the root folder", False
    if path.exists() and not replace:
        return f"not saved: {shown} exists; tick 'replace' to write over it", False
    text = record_toml(record)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "x", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        if load_record(temporary) != record:  # read back as stamp reads it, before it replaces anything
            raise DisclosureError(path, "the written record does not read back the same")
        os.replace(temporary, path)
    except (OSError, DisclosureError) as exc:
        temporary.unlink(missing_ok=True)
        return f"not saved: {exc}", False
    return f"saved {shown}; stamp with: aidisclose stamp FILE --record {shown} --output stamped/", True


# -- stamp ----------------------------------------------------------------------------------------------------


def stamp_page(request: Request) -> Response:
    media, records, folders = _listing(_state(request).settings.root)
    return _render(request, "stamp.html", page="stamp", media=media, records=records, folders=folders, uploaded=[])


async def stamp_upload(request: Request) -> Response:
    state = _state(request)
    length = request.headers.get("content-length")
    if length is None or not length.isdigit():
        raise HTTPException(411, "refused: an upload must say its length")
    if int(length) > state.settings.max_upload:
        raise HTTPException(413, f"refused: uploads are limited to {state.settings.max_upload >> 20} MiB")
    form = await _form(request)
    folder = _path(request, INCOMING)
    folder.mkdir(exist_ok=True)
    uploaded = []
    for _, value in form.multi_items():
        if isinstance(value, UploadFile) and value.filename:
            uploaded.append(relative_name(state.settings.root, await _store(value, folder, state.settings.max_upload)))
    media, _, _ = _listing(state.settings.root)
    return _render(request, "_files.html", media=media, uploaded=uploaded)


async def _store(upload: UploadFile, folder: Path, limit: int) -> Path:
    path, fd = new_file(folder, safe_upload_name(upload.filename or ""))
    written = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := await upload.read(1 << 20):
                written += len(chunk)
                if written > limit:
                    raise HTTPException(413, "refused: the upload is larger than the limit")
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


async def stamp_run(request: Request) -> Response:
    from ..plan import StampOptions

    state = _state(request)
    form = await _form(request)
    chosen = [v for k, v in form.multi_items() if k == "file" and isinstance(v, str)]
    record_name = form.get("record")
    output_name = form.get("output")
    if not chosen or not isinstance(record_name, str) or not record_name or not isinstance(output_name, str):
        return _render(request, "_run.html", run=None, problem="pick files, a record file and an output folder")
    files = [_path(request, name) for name in chosen]
    record = _path(request, record_name)
    output = _path(request, output_name.strip() or "stamped")
    signing = None
    if form.get("sign") == "on":
        from ..carriers.c2pa.identity import identity_from_settings

        try:
            signing = identity_from_settings(state.settings.sign_cert, state.settings.sign_key)
        except DisclosureError as err:
            return _render(request, "_run.html", run=None, problem=err.one_line())
    run = state.stamps.start(files, record, StampOptions(output_dir=output, signing=signing))
    return _run_view(request, run.id)


def stamp_progress(request: Request) -> Response:
    return _run_view(request, request.path_params["run"])


def _run_view(request: Request, run_id: str) -> Response:
    run = _state(request).stamps.get(run_id)
    if run is None:
        raise HTTPException(404, "no such stamp run")
    total, done, lines, finished, failed = run.snapshot()
    return _render(request, "_run.html", run=run, total=total, done=done, lines=lines, finished=finished, failed=failed)


# -- inspect --------------------------------------------------------------------------------------------------


def inspect_page(request: Request) -> Response:
    state = _state(request)
    media, _, _ = _listing(state.settings.root)
    name = request.query_params.get("path", "")
    result = error = picture = None
    if name:
        from ..inspect import inspect_file
        from ..preview import thumbnail

        path = _path(request, name)
        try:
            with state.media_lock:
                result = inspect_file(path, trust=_trust(state.settings))
                picture = thumbnail(path, result.format)
        except DisclosureError as err:
            error = err.one_line()
    record = result.record.to_json_dict() if result else {}
    return _render(
        request, "inspect.html", page="inspect", media=media, name=name, result=result, record=record,
        error=error, picture=picture,
    )  # fmt: skip


# -- review ---------------------------------------------------------------------------------------------------


def _policy_names() -> list[str]:
    from ..policy import builtin_names

    return builtin_names()


def _policy_files(root: Path, records: list[str]) -> list[str]:
    """The TOML files under the root that hold a ``[policy]`` table: a studio's own policies."""
    found = []
    for name in records:
        if not name.endswith(".toml"):
            continue
        try:
            with open(root / name, encoding="utf-8", errors="replace") as text:
                head = text.read(64 << 10)
        except OSError:
            continue
        if any(line.strip() == "[policy]" for line in head.splitlines()):
            found.append(name)
    return found


def review_page(request: Request) -> Response:
    root = _state(request).settings.root
    _, records, folders = _listing(root)
    policy_files = _policy_files(root, records)
    return _render(
        request, "review.html", page="review", folders=folders, builtin=_policy_names(), policy_files=policy_files,
        review=None,
    )  # fmt: skip


def _trust(settings: Settings) -> Any:
    """The trust anchors the app was started with (``--trust``), for inspect and review."""
    if settings.trust is None:
        return None
    from ..carriers.c2pa.reading import read_trust_anchors
    from ..carriers.c2pa.trust import TrustSettings

    return TrustSettings(anchors=read_trust_anchors(settings.trust))


def _check(folder: Path, policies: list[str], settings: Settings, lock: threading.Lock) -> Any:
    from ..batch import walk
    from ..check import build_report, iter_checks
    from ..policy import load_policy

    root = settings.root
    loaded = [load_policy(p) if p in _policy_names() else load_policy(confined(root, p)) for p in policies]
    started, clock = dt.datetime.now(dt.UTC), time.perf_counter()
    with lock:
        files = list(iter_checks(list(walk([folder])), loaded, trust=_trust(settings), thumbnails=True))
    return build_report(files, loaded, False, started, time.perf_counter() - clock)


async def review_run(request: Request) -> Response:
    from starlette.concurrency import run_in_threadpool

    state = _state(request)
    form = await _form(request)
    folder_name = form.get("folder")
    policies = [v for k, v in form.multi_items() if k == "policy" and isinstance(v, str)]
    if not isinstance(folder_name, str) or not policies:
        raise HTTPException(400, "choose a folder and at least one policy")
    folder = _path(request, folder_name)
    for policy in policies:
        if policy not in _policy_names():
            _path(request, policy)
    try:
        report = await run_in_threadpool(_check, folder, policies, state.settings, state.media_lock)
    except DisclosureError as err:
        raise HTTPException(400, err.one_line()) from None
    shown = relative_name(state.settings.root, folder)
    review = Review(secrets.token_hex(8), shown, policies, report, report.started_at)
    with state.lock:
        state.reviews[review.id] = review
        while len(state.reviews) > MAX_REVIEWS_KEPT:
            del state.reviews[next(iter(state.reviews))]
    if request.headers.get("hx-request"):  # htmx follows a redirect itself, unseen: it is told where to go instead
        return Response(status_code=204, headers={"HX-Redirect": f"/review/{review.id}"})
    return RedirectResponse(f"/review/{review.id}", status_code=303)


def _review(request: Request) -> Review:
    review = _state(request).reviews.get(request.path_params["review"])
    if review is None:
        raise HTTPException(404, "no such review (the app keeps the last few): run it again")
    return review


_SORT_KEYS: dict[str, Callable[[Any], Any]] = {
    "verdict": lambda f: {"error": 0, "fail": 1, "pass": 2, "skipped": 3}.get(f.verdict.value, 4),
    "path": lambda f: f.path,
    "format": lambda f: f.format or "",
    "c2pa": lambda f: f.c2pa.state.value if f.c2pa else "",
}


def _rows(review: Review, params: Any) -> list[tuple[int, Any]]:
    rows = list(enumerate(review.report.files))
    verdict, fmt, c2pa, rule = (params.get(k, "") for k in ("verdict", "format", "c2pa", "rule"))
    if verdict:
        rows = [r for r in rows if r[1].verdict.value == verdict]
    if fmt:
        rows = [r for r in rows if (r[1].format or "") == fmt]
    if c2pa:
        rows = [r for r in rows if (r[1].c2pa.state.value if r[1].c2pa else "") == c2pa]
    if rule:
        rows = [r for r in rows if any(o.rule == rule and o.outcome.value == "fail" for o in r[1].results)]
    key = _SORT_KEYS.get(params.get("sort", "verdict"), _SORT_KEYS["verdict"])
    rows.sort(key=lambda r: key(r[1]), reverse=params.get("desc") == "1")
    return rows


def _facets(review: Review) -> dict[str, list[str]]:
    files = review.report.files
    return {
        "verdict": sorted({f.verdict.value for f in files}),
        "format": sorted({f.format for f in files if f.format}),
        "c2pa": sorted({f.c2pa.state.value for f in files if f.c2pa}),
        "rule": sorted({o.rule for f in files for o in f.results if o.outcome.value == "fail"}),
    }


def review_view(request: Request) -> Response:
    review = _review(request)
    params = request.query_params
    template = "_table.html" if request.headers.get("hx-request") and params.get("part") == "table" else "review.html"
    state = _state(request)
    _, records, folders = _listing(state.settings.root)
    return _render(
        request, template, page="review", review=review, rows=_rows(review, params), facets=_facets(review),
        params=params, builtin=_policy_names(), folders=folders,
        policy_files=_policy_files(state.settings.root, records),
        relative=lambda p: relative_name(state.settings.root, Path(p)),
    )  # fmt: skip


def review_card(request: Request) -> Response:
    review = _review(request)
    index = request.path_params["index"]
    if not 0 <= index < len(review.report.files):
        raise HTTPException(404, "no such file in this review")
    state = _state(request)
    return _render(
        request, "_card.html", file=review.report.files[index], index=index,
        relative=lambda p: relative_name(state.settings.root, Path(p)),
    )  # fmt: skip


_DOWNLOADS = {"json": ("application/json", "json"), "csv": ("text/csv", "csv"), "junit": ("application/xml", "xml"),
              "html": ("text/html", "html")}  # fmt: skip


def review_download(request: Request) -> Response:
    from ..report import ReportFormat, write_report

    review = _review(request)
    kind = request.path_params["kind"]
    if kind not in _DOWNLOADS:
        raise HTTPException(404, "no such report format")
    stream = io.StringIO()
    write_report(review.report, ReportFormat(kind), stream)
    mime, suffix = _DOWNLOADS[kind]
    name = f"aidisclose-report-{review.id}.{suffix}"
    return Response(
        stream.getvalue(), media_type=mime, headers={"content-disposition": f'attachment; filename="{name}"'}
    )


async def review_approve(request: Request) -> Response:
    from starlette.concurrency import run_in_threadpool

    state = _state(request)
    review = _review(request)
    form = await _form(request)
    picked = {int(v) for k, v in form.multi_items() if k == "pick" and isinstance(v, str) and v.isdigit()}
    files = review.report.files
    if form.get("all_passing") == "1":
        picked = {i for i, f in enumerate(files) if f.verdict.value == "pass"}
    chosen = [files[i] for i in sorted(picked) if i < len(files)]
    reviewer = form.get("reviewer")
    problem = None
    if not chosen:
        problem = "select at least one passing file"
    elif any(f.verdict.value != "pass" for f in chosen):
        problem = "only files that pass can be approved"
    elif not isinstance(reviewer, str) or not reviewer.strip():
        problem = "name the reviewer"
    if problem:
        return _render(request, "_signoff.html", problem=problem, run=None, verified=None)
    assert isinstance(reviewer, str)
    role, notes = form.get("role"), form.get("notes")
    folder = _path(request, SIGNOFFS)
    folder.mkdir(exist_ok=True)
    out = folder / f"signoff-{dt.datetime.now(dt.UTC).strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}.json"
    signing = None
    if form.get("sign") == "on" and state.settings.sign_cert and state.settings.sign_key:
        signing = signoff.SigningFiles(state.settings.sign_cert, state.settings.sign_key)
    run = await run_in_threadpool(
        signoff.approve, [Path(f.path) for f in chosen], review.policies, reviewer.strip(), out, state.settings.root,
        role if isinstance(role, str) else None, notes if isinstance(notes, str) else None, signing,
        state.settings.trust,
    )  # fmt: skip
    verified = None
    # The document names each file relative to the folder it was found in: one folder can be checked again.
    folders = {Path(f.path).parent for f in chosen}
    against = folders.pop() if len(folders) == 1 else None
    # Some of the folder's files approved: the others are not this sign-off's, so only the listed are checked.
    some = against is not None and any(Path(f.path).parent == against and f not in chosen for f in review.report.files)
    if out.exists():
        verified = await run_in_threadpool(
            signoff.verify, out, state.settings.root, state.settings.trust, against, some
        )
        review.signoffs.append({"path": relative_name(state.settings.root, out), "ok": verified.ok})
    signature = out.with_name(out.name + ".p7s")
    return _render(
        request, "_signoff.html", problem=None, run=run, verified=verified,
        signoff_path=relative_name(state.settings.root, out) if out.exists() else None, against=against,
        signature_path=relative_name(state.settings.root, signature) if signature.exists() else None,
    )  # fmt: skip


def download(request: Request) -> Response:
    """A sign-off document or its signature (under ``signoffs/``), as an attachment, never shown inline.

    Nothing else under the root is handed out: the root may hold the signing key, and a page that learnt
    the session must not be able to read whatever the app can.
    """
    path = _path(request, request.query_params.get("path", ""))
    signoffs = _state(request).settings.root / SIGNOFFS
    if not path.is_relative_to(signoffs) or path == signoffs:
        raise HTTPException(403, f"refused: only the sign-off documents under {SIGNOFFS}/ are downloaded here")
    if not path.is_file():
        raise HTTPException(404, "no such file")
    data = path.read_bytes() if path.stat().st_size <= 64 << 20 else None
    if data is None:
        raise HTTPException(413, "too large to download here")
    name = safe_upload_name(path.name)
    return Response(
        data, media_type="application/octet-stream", headers={"content-disposition": f'attachment; filename="{name}"'}
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    detail = exc.detail if isinstance(exc, HTTPException) else "internal error"
    if request.headers.get("hx-request"):
        return _render(request, "_problem.html", status=status, problem=detail)
    if status in (403, 411, 413):
        return PlainTextResponse(detail, status_code=status)
    return _render(request, "problem.html", status=status, problem=detail, page="")


def create_app(settings: Settings) -> Starlette:
    """The app, behind the guard (token, Host, Origin) for ``settings``."""
    routes = [
        Route("/", home),
        Route("/record", record_page),
        Route("/record/form", record_form, methods=["POST"]),
        Route("/record/preview", record_preview, methods=["POST"]),
        Route("/record/save", record_save, methods=["POST"]),
        Route("/stamp", stamp_page),
        Route("/stamp/upload", stamp_upload, methods=["POST"]),
        Route("/stamp/run", stamp_run, methods=["POST"]),
        Route("/stamp/run/{run}", stamp_progress),
        Route("/inspect", inspect_page),
        Route("/review", review_page),
        Route("/review/run", review_run, methods=["POST"]),
        Route("/review/{review}", review_view),
        Route("/review/{review}/card/{index:int}", review_card),
        Route("/review/{review}/report.{kind}", review_download),
        Route("/review/{review}/approve", review_approve, methods=["POST"]),
        Route("/download", download),
        Mount("/static", app=StaticFiles(packages=[("aidisclose.web", "static")]), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error, Exception: _http_error})
    app.state.aidisclose = State(settings)
    app.state.templates = _env()
    app.add_middleware(GuardMiddleware, guard=settings.guard)
    return app
