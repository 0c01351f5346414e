"""The command line: parse, call the library, format, set the exit code. No logic lives here."""

from __future__ import annotations

import copy
import datetime as dt
import gc
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from inspect import cleandoc
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer
from typer import _click as click
from typer.core import TyperCommand, TyperGroup

from ._version import __version__
from .batch import Item, Outcome, WalkOptions, effective_jobs, exit_on_signals, item_size, walk
from .carriers.c2pa.trust import (
    CLAIM_SIGNING_EKU,
    TRUST_KEYS,
    TrustSettings,
    read_allowed_list,
    read_trust_config,
    trust_files,
)
from .console import LazyConsole
from .display import json_dumps, terminal_text
from .engine import Engine
from .errors import DisclosureError
from .formats import SUPPORTED
from .policy import DEFAULT_POLICY
from .report import WITH_THUMBNAILS, ReportFormat
from .safewrite import Verify

# Each command imports what it runs, in its body: a call runs one command on a file or two, and start-up
# is most of its time (pydantic models, the policy engine, the C2PA SDK, exiv2, mutagen load on use).
if TYPE_CHECKING:
    from .carriers.c2pa.identity import SigningIdentity
    from .check import CheckReport, FileCheck, Summary
    from .plan import RecordLayers, StampOptions, StampPlan
    from .policy import Policy
    from .remote import Storage
    from .stamp import StampResult

EXIT_OK = 0
EXIT_POLICY = 1
EXIT_ERROR = 2


def _reflow(text: str | None) -> str | None:
    """Help paragraphs as one line each, for the terminal to wrap; indented lines (examples) kept as they are."""
    if not text:
        return text
    paragraphs = cleandoc(text).split("\n\n")
    return "\n\n".join(p if p.startswith(" ") else " ".join(p.split("\n")) for p in paragraphs)


class _PlainHelp:
    """Help in words, never Python types: a flag shows none, a value its metavar (or its name)."""

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        params: list[click.Parameter] = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            if param.metavar is None:
                flag = getattr(param, "is_flag", False) or getattr(param, "count", False)
                param.metavar = "" if flag else (param.name or "value").upper()
            if param.param_type_name == "argument" and "get_metavar" not in vars(param.type):
                # its name says what it is: no type column (a copy of its type, converting as it did)
                param.type = copy.copy(param.type)
                param.type.get_metavar = _no_type  # type: ignore[method-assign]
        return params


def _no_type(*_args: object, **_kwargs: object) -> str:
    return ""


class _Command(_PlainHelp, TyperCommand):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help = _reflow(self.help)

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        """``[OPTIONS] PATHS...``: a required argument bare, an optional one in brackets."""
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                name = (param.metavar or "") + ("..." if param.nargs != 1 else "")
                pieces.append(name if param.required else f"[{name}]")
        return pieces


class _Group(_PlainHelp, TyperGroup):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help = _reflow(self.help)


app = typer.Typer(
    name="aidisclose",
    help=(
        "Write AI-usage, consent and attribution metadata into images, audio and video, "
        "and read it back.\n\n"
        "Exit codes: 0 all went well; 1 a policy failure (check); 2 a usage error or a file that could not be "
        "read or written.\n\n"
        "Limits on a parser reading one file (a damaged file can make libmediainfo loop): "
        "AIDISCLOSE_PARSE_SECONDS (default 20), AIDISCLOSE_PARSE_MEGABYTES (default 1024)."
    ),
    no_args_is_help=True,
    add_completion=False,
    cls=_Group,
    rich_markup_mode="rich",
    pretty_exceptions_show_locals=False,  # a traceback's locals would show key material and TSA credentials
)


stdout = LazyConsole()
stderr = LazyConsole(stderr=True)


class CreditsFormat(StrEnum):
    text = "text"
    csv = "csv"
    json = "json"


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


def _error(err: DisclosureError) -> None:
    _error_text(err.lines())


def _error_text(text: str) -> None:
    """An error as DisclosureError told it: its line, then one line per problem (each already on one line)."""
    stderr.print(f"aidisclose: error: {text}")


JobsOption = Annotated[
    int | None,
    typer.Option(
        "--jobs",
        "-j",
        min=1,
        metavar="N",
        show_default=False,
        help="Processes to share the work: at least 1, at most one per CPU and per file (default: one per CPU).",
    ),
]
IncludeOption = Annotated[
    list[str] | None,
    typer.Option("--include", metavar="GLOB", help="In folders, only files matching this glob (path or name)."),
]
ExcludeOption = Annotated[
    list[str] | None, typer.Option("--exclude", metavar="GLOB", help="In folders, leave out files matching this glob.")
]
FollowOption = Annotated[
    bool, typer.Option("--follow-symlinks", help="Follow symlinks in folders (link loops are detected).")
]


class Digest(StrEnum):
    sha256 = "sha256"
    none = "none"


EngineOption = Annotated[
    Engine,
    typer.Option(
        "--engine",
        help="local: this machine's processes; dask: a Dask cluster (--scheduler, or a LocalCluster of --jobs "
        "workers). Needs aidisclose[cloud].",
    ),
]
SchedulerOption = Annotated[
    str | None,
    typer.Option("--scheduler", metavar="tcp://HOST:PORT", help="A running Dask scheduler, for --engine dask."),
]
DigestOption = Annotated[
    Digest,
    typer.Option(
        "--digest",
        help="sha256 reads every file whole for its digest; none skips that read (metadata only; the report "
        "says so and no sha256 is given).",
    ),
]
S3EndpointOption = Annotated[
    str | None,
    typer.Option(
        "--s3-endpoint",
        metavar="URL",
        envvar="AWS_ENDPOINT_URL",
        help="The S3 endpoint for s3:// paths (credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY).",
    ),
]


def _locations(paths: list[str], endpoint: str | None, digest: Digest) -> tuple[list[Path], Storage | None]:
    """Local paths, or (all of them URLs, ``s3://bucket/prefix``) the storage they are in."""
    from .engine import is_url

    urls = [p for p in paths if is_url(p)]
    if urls and len(urls) != len(paths):
        raise DisclosureError(
            urls[0], "object-storage URLs and local paths cannot be mixed in one run", "run each on its own"
        )
    if urls:
        from .remote import Storage

        return [], Storage(endpoint, digest is Digest.sha256)
    return [Path(p) for p in paths], None


def _walk_options(include: list[str] | None, exclude: list[str] | None, follow: bool) -> WalkOptions:
    return WalkOptions(tuple(include or ()), tuple(exclude or ()), follow)


@contextmanager
def _progress(total: int, label: str) -> Iterator[Callable[[object], None]]:
    """A progress bar on stderr, only when stderr is a terminal and there is more than one file."""
    if total < 2 or not stderr.is_terminal:
        yield lambda _result: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=stderr.rich, transient=True) as progress:
        task = progress.add_task(label, total=total)
        yield lambda _result: progress.advance(task)


def _print_skipped(line: str) -> None:
    """A skipped entry (``PATH: reason``) in a command's text output: nothing met is left out unseen."""
    stdout.print(f"skipped {terminal_text(line)}")


def _nothing_done(done: int, met: int, what: str) -> bool:
    """True, with the one line saying so, when a batch did its work on no file: never a pass (exit 2)."""
    if done:
        return False
    skipped = f": all {met} skipped" if met else ": none was found"
    _error(DisclosureError(None, f"no media file was {what}{skipped}", "name media files or folders that hold them"))
    return True


def _summary(counts: dict[str, int], files: int, seconds: float) -> None:
    rate = f", {files / seconds:.0f} files/s" if seconds > 0 and files else ""
    parts = ", ".join(f"{n} {name}" for name, n in counts.items())
    stderr.print(f"{files} file(s): {parts} in {seconds:.2f} s{rate}", highlight=False)


def _print_json(data: Any) -> None:
    sys.stdout.write(json_dumps(data, indent=2) + "\n")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"aidisclose {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Write AI-usage, consent and attribution metadata into media files, and read it back."""


FormatOption = Annotated[
    OutputFormat, typer.Option("--format", "-f", metavar="FORMAT", help="text for people, json for scripts.")
]
StampFiles = Annotated[
    list[Path],
    typer.Argument(
        help=f"Files and folders to stamp (folders are walked; with --output the tree is mirrored): {SUPPORTED}.",
        show_default=False,
    ),
]
RecordOption = Annotated[
    Path | None,
    typer.Option(
        "--record", "-r", metavar="FILE", help="Disclosure record, TOML or JSON (`aidisclose init` writes one)."
    ),
]
SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        "-s",
        metavar="FIELD=VALUE",
        help="Override one field, e.g. --set human_review.status=approved or --set ai_used=true. Repeatable.",
    ),
]
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", metavar="FOLDER", help="Write stamped copies into this folder.")
]
InPlaceOption = Annotated[bool, typer.Option("--in-place", help="Change the files themselves.")]
OverwriteOption = Annotated[bool, typer.Option("--overwrite", help="With --output, replace files already there.")]
RecordsOption = Annotated[
    Path | None,
    typer.Option(
        "--records",
        metavar="FILE",
        help="Per-file records: CSV (a 'path' column + one column per field) or JSON {path: {fields}}, "
        "paths relative to the folder given; laid over --record.",
    ),
]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Say what would be stamped; write nothing.")]
VerifyOption = Annotated[
    Verify,
    typer.Option(
        "--verify",
        metavar="HOW",
        help="MP4/MOV/M4V are edited in place: 'touched' proves no media byte was written (fast), "
        "'full' also hashes all media before and after. Other formats always compare the decoded essence.",
    ),
]
SignOption = Annotated[
    bool,
    typer.Option(
        "--sign",
        help="Sign a C2PA manifest last, over the stamped file (embedded, or NAME.EXT.c2pa where the SDK "
        "cannot embed). Certificate and key from --sign-cert and --sign-key, AIDISCLOSE_SIGN_CERT "
        "and AIDISCLOSE_SIGN_KEY, or --sign-config.",
    ),
]
SignCertOption = Annotated[
    Path | None, typer.Option("--sign-cert", metavar="FILE", help="PEM chain: signing certificate first.")
]
SignKeyOption = Annotated[
    Path | None,
    typer.Option(
        "--sign-key",
        metavar="FILE",
        help="PEM private key file (ES256/384/512, PS256, Ed25519). For an encrypted one, the passphrase is asked "
        "for at a terminal or read from the environment (see above).",
    ),
]
SignConfigOption = Annotated[
    Path | None,
    typer.Option("--sign-config", metavar="FILE", help="TOML with cert, key and tsa_url (paths relative to it)."),
]
TsaOption = Annotated[
    str | None,
    typer.Option(
        "--tsa-url",
        metavar="URL",
        help="RFC 3161 timestamp authority for the signature (credentials never printed). Without one a "
        "signature is valid only while the signing certificate is.",
    ),
]
DiscardOption = Annotated[
    bool,
    typer.Option(
        "--discard-credentials",
        help="Stamp files that carry C2PA content credentials without --sign, knowing their manifest will no "
        "longer validate (without it such files are refused; with --sign the old manifest becomes the parent "
        "ingredient).",
    ),
]
RedactOption = Annotated[
    str | None,
    typer.Option(
        "--redact",
        metavar="WHAT",
        help="Personal data left out of the signed manifest: prompts, persons, or none to sign the whole record. "
        "By default both are left out (a signed manifest cannot be edited later); the file's own metadata "
        "keeps them either way.",
    ),
]
ReplaceStandardOption = Annotated[
    bool,
    typer.Option(
        "--replace-standard",
        help="Replace standard properties (dc:rights, dc:title, IPTC, ID3 TCOP...) that already hold another "
        "value; by default they are kept and a note names each one.",
    ),
]
Id3VersionOption = Annotated[
    int | None,
    typer.Option(
        "--id3v2-version",
        metavar="3|4",
        min=3,
        max=4,
        help="Write MP3/AIFF ID3 tags as v2.3 or v2.4 (default: the tag's own version; v2.4 for a new tag).",
    ),
]


class Label(StrEnum):
    china = "china"


LabelOption = Annotated[
    list[Label] | None,
    typer.Option(
        "--label",
        metavar="china",
        help="Also write a jurisdiction's own AI label from the record. china: GB 45438-2025's implicit label "
        "(the TC260 AIGC JSON: Label, ContentProducer = the AI systems' providers or the production, ProduceID "
        "= asset_id) in XMP TC260:AIGC, ID3 TXXX:AIGC, Vorbis AIGC and MP4 ----:com.apple.iTunes:AIGC; a "
        "platform's ContentPropagator/PropagateID already there are kept.",
    ),
]


@app.command("stamp", cls=_Command)
def stamp_command(
    files: StampFiles,
    record_path: RecordOption = None,
    overrides: SetOption = None,
    output: OutputOption = None,
    in_place: InPlaceOption = False,
    overwrite: OverwriteOption = False,
    records: RecordsOption = None,
    dry_run: DryRunOption = False,
    jobs: JobsOption = None,
    include: IncludeOption = None,
    exclude: ExcludeOption = None,
    follow_symlinks: FollowOption = False,
    verify: VerifyOption = Verify.touched,
    sign_flag: SignOption = False,
    sign_cert: SignCertOption = None,
    sign_key: SignKeyOption = None,
    sign_config: SignConfigOption = None,
    tsa_url: TsaOption = None,
    redact: RedactOption = None,
    replace_standard: ReplaceStandardOption = False,
    id3v2_version: Id3VersionOption = None,
    discard_credentials: DiscardOption = False,
    label: LabelOption = None,
    output_format: FormatOption = OutputFormat.text,
) -> None:
    """Write a disclosure record into each file.

    Images and audio are written to a temporary file that is read back and checked (the record comes
    back from every carrier, the decoded pixels or samples are unchanged) before it replaces anything.
    MP4/MOV/M4V/M4A are edited in place in a crash-safe order that writes a few KB and never a media
    byte, so multi-GB files stamp in well under a second. Formats without a writer get a NAME.EXT.xmp
    sidecar. One bad file does not stop the others.

    The passphrase of an encrypted signing key is asked for at a terminal, or
    read from the environment variable AIDISCLOSE_SIGN_KEY_PASSPHRASE.

    [bold]Examples[/bold]

      aidisclose stamp shot010.jpg --record record.toml --output delivery/

      aidisclose stamp *.png -r record.toml --set human_review.status=approved --in-place
    """
    from .plan import RecordLayers, StampOptions, parse_redactions, plan_stamp

    try:
        signing = _signing(sign_flag, sign_cert, sign_key, sign_config, tsa_url)
        options = StampOptions(
            output, in_place, overwrite, verify, signing, parse_redactions(redact), dry_run,
            replace_standard=replace_standard, id3v2_version=id3v2_version, discard_credentials=discard_credentials,
            china_label=Label.china in (label or ()),
        )  # fmt: skip
        layers = RecordLayers.load(record_path, records, overrides or ())
    except DisclosureError as err:
        _error(err)
        raise typer.Exit(EXIT_ERROR) from None
    plan = plan_stamp(files, layers, options, _walk_options(include, exclude, follow_symlinks))
    raise typer.Exit(_run_stamp(plan, effective_jobs(jobs, len(plan.jobs)), output_format))


def _note_untimestamped(outcomes: list[Outcome[StampResult]], signing: SigningIdentity | None) -> None:
    """Once a run, after it: signatures without a time-stamp (C2PA 2.2 §10.3.2.5) die with the certificate."""
    if signing is None or signing.tsa_url is not None or not any(o.result and o.result.manifest for o in outcomes):
        return
    expires = signing.expires()
    until = f" (until {expires})" if expires else ""
    stderr.print(
        f"aidisclose: note: signing without a timestamp authority: the signatures are valid only while the "
        f"signing certificate is{until}; give --tsa-url URL (or tsa_url in --sign-config) to time-stamp them"
    )


def _signing(
    sign: bool, cert: Path | None, key: Path | None, config: Path | None, tsa_url: str | None
) -> SigningIdentity | None:
    """The signing identity the options name, or None when they ask for no signature."""
    if not (sign or cert or key or config):
        return None
    from .carriers.c2pa.identity import identity_from_settings

    ask = _ask_passphrase if sys.stdin is not None and sys.stdin.isatty() else None
    return identity_from_settings(cert, key, config, tsa_url, ask)


def _ask_passphrase(key: Path) -> str:
    from .carriers.c2pa.identity import PASSPHRASE_ENV

    try:
        answer: str = typer.prompt(f"passphrase for {key}", hide_input=True, err=True)
    except typer.Abort:
        raise DisclosureError(key, "no passphrase given", f"set {PASSPHRASE_ENV} or type it when asked") from None
    return answer


def _run_stamp(plan: StampPlan, jobs: int, output_format: OutputFormat) -> int:
    """Stamp a plan, each file's line as it is done, then the summary; the exit code."""
    from .plan import run_plan
    from .stamp import StampAction

    for refused in plan.refused:
        _error_text(refused.error or "")
    skipped_items = [i for i in plan.items if i.skip]
    if output_format is OutputFormat.text:
        for item in skipped_items:
            _print_skipped(f"{item.path}: {item.skip}")
    clock = time.perf_counter()
    with _progress(len(plan.jobs), "stamping") as advance:

        def report(outcome: Outcome[StampResult]) -> None:
            advance(outcome)
            if outcome.error:
                _error(DisclosureError(None, outcome.error))
            elif output_format is OutputFormat.text and outcome.skipped:
                _print_skipped(outcome.skipped)
            elif output_format is OutputFormat.text and outcome.result is not None:
                _print_stamped(outcome.result)

        for repeat in plan.repeated if output_format is OutputFormat.text else ():
            _print_skipped(repeat.skipped or "")
        outcomes = [*plan.refused, *plan.repeated, *run_plan(plan, jobs, report)]
    _note_untimestamped(outcomes, plan.options.signing)
    if output_format is OutputFormat.json:
        _print_json(_stamp_json(outcomes, skipped_items))
    failed = sum(o.error is not None for o in outcomes)
    if len(plan.items) > 1:
        results = [o.result for o in outcomes if o.result is not None]
        counts = {action.value: sum(r.action is action for r in results) for action in StampAction}
        skipped = sum(o.skipped is not None for o in outcomes) + len(skipped_items)
        _summary({**{k: v for k, v in counts.items() if v}, "skipped": skipped, "failed": failed},
                 len(plan.items), time.perf_counter() - clock)  # fmt: skip
    if failed or _nothing_done(sum(o.result is not None for o in outcomes), len(plan.items), "stamped"):
        return EXIT_ERROR
    return EXIT_OK


def _print_stamped(r: StampResult) -> None:
    stdout.print(r.line())
    for note in r.notes:
        stderr.print(f"  note: {terminal_text(str(r.destination))}: {note}")


def _stamp_json(outcomes: list[Outcome[StampResult]], skipped: list[Item]) -> dict[str, Any]:
    def one(result: StampResult) -> dict[str, Any]:
        return {
            "source": str(result.source),
            "destination": str(result.destination),
            "format": result.format,
            "carriers": list(result.carriers),
            "keys_written": result.keys_written,
            "keys_removed": result.keys_removed,
            "size_before": result.size_before,
            "size_after": result.size_after,
            "bytes_written": result.bytes_written,
            "sidecar": str(result.sidecar) if result.sidecar else None,
            "notes": list(result.notes),
            "action": result.action.value,
            "c2pa_manifest": str(result.manifest) if result.manifest else None,
        }

    return {
        "tool_version": __version__,
        "stamped": [one(o.result) for o in outcomes if o.result is not None],
        "errors": [{"path": str(o.path), "error": o.error} for o in outcomes if o.error],
        "skipped": [{"path": str(i.path), "reason": i.skip} for i in skipped]
        + [{"path": str(o.path), "reason": o.skipped} for o in outcomes if o.skipped],
    }


TrustOption = Annotated[
    Path | None,
    typer.Option(
        "--trust",
        metavar="FILE",
        envvar="AIDISCLOSE_TRUST_ANCHORS",
        help="PEM trust anchors only: a C2PA signer they vouch for reads as 'trusted' (never without anchors or "
        "--trust-allowed).",
    ),
]
TrustAllowedOption = Annotated[
    Path | None,
    typer.Option(
        "--trust-allowed",
        envvar="AIDISCLOSE_TRUST_ALLOWED",
        help="Signing certificates trusted as they are, without an anchor: PEM, or base64 SHA-256 hashes one a line.",
    ),
]
TrustConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--trust-config",
        envvar="AIDISCLOSE_TRUST_CONFIG",
        help=f"Extended key usages a trusted signer may carry, one OID a line (c2pa-kp-claimSigning is "
        f"{CLAIM_SIGNING_EKU}); default: the SDK's list.",
    ),
]
TrustTsaOption = Annotated[
    Path | None,
    typer.Option(
        "--trust-tsa",
        envvar="AIDISCLOSE_TRUST_TSA",
        help="PEM anchors of time-stamp authorities: a signing time they vouch for reads as trusted.",
    ),
]
TrustCawgOption = Annotated[
    Path | None,
    typer.Option(
        "--trust-cawg", envvar="AIDISCLOSE_TRUST_CAWG", help="PEM anchors for CAWG X.509 identity assertions."
    ),
]
TrustSettingsOption = Annotated[
    Path | None,
    typer.Option(
        "--trust-settings",
        envvar="AIDISCLOSE_TRUST_SETTINGS",
        help=f"TOML with a [trust] table ({', '.join(TRUST_KEYS)}: file paths relative to it; each option above "
        "wins over its entry). May be the --sign-config file.",
    ),
]
FetchOcspOption = Annotated[
    bool,
    typer.Option(
        "--fetch-ocsp",
        help="Ask each signer's OCSP responder whether its certificate was revoked (never asked without this).",
    ),
]
FetchRemoteOption = Annotated[
    bool,
    typer.Option(
        "--fetch-remote",
        help="Fetch a C2PA manifest a file only points at on the web, to validate it (never fetched without this; "
        "it reads as 'remote' with its URL).",
    ),
]


def _anchors(path: Path | None) -> bytes | None:
    from .carriers.c2pa.reading import read_trust_anchors

    return None if path is None else read_trust_anchors(path)


def _trust(
    anchors: Path | None,
    allowed: Path | None = None,
    config: Path | None = None,
    tsa: Path | None = None,
    cawg: Path | None = None,
    settings: Path | None = None,
    fetch_ocsp: bool = False,
) -> TrustSettings:
    """The trust settings from options (or their env vars), then the ``[trust]`` table of ``settings``."""
    files = trust_files(settings) if settings is not None else {}
    return TrustSettings(
        anchors=_anchors(anchors or files.get("anchors")),
        allowed=read_allowed_list(allowed or files.get("allowed")),
        config=read_trust_config(config or files.get("config")),
        tsa_anchors=_anchors(tsa or files.get("tsa_anchors")),
        cawg_anchors=_anchors(cawg or files.get("cawg_anchors")),
        ocsp_fetch=fetch_ocsp,
    )


@app.command("inspect", cls=_Command)
def inspect_command(
    files: Annotated[
        list[str],
        typer.Argument(help="Files and folders to read, or object-storage URLs (s3://...).", show_default=False),
    ],
    trust: TrustOption = None,
    trust_allowed: TrustAllowedOption = None,
    trust_config: TrustConfigOption = None,
    trust_tsa: TrustTsaOption = None,
    trust_cawg: TrustCawgOption = None,
    trust_settings: TrustSettingsOption = None,
    fetch_ocsp: FetchOcspOption = False,
    fetch_remote: FetchRemoteOption = False,
    jobs: JobsOption = None,
    include: IncludeOption = None,
    exclude: ExcludeOption = None,
    follow_symlinks: FollowOption = False,
    output_format: FormatOption = OutputFormat.text,
    engine: EngineOption = Engine.local,
    scheduler: SchedulerOption = None,
    digest: DigestOption = Digest.sha256,
    s3_endpoint: S3EndpointOption = None,
) -> None:
    """Rebuild the disclosure record from each file and show where every value came from.

    Reads every carrier (XMP, IPTC IIM, ID3, Vorbis comments, MP4 items, sidecars, C2PA) without
    changing the file, and reports carriers that disagree and values that are not valid.
    """
    from .inspect import inspect_item
    from .report.inspect import write_inspect_json

    try:
        local, storage = _locations(files, s3_endpoint, digest)
        settings = _trust(trust, trust_allowed, trust_config, trust_tsa, trust_cawg, trust_settings, fetch_ocsp)
    except DisclosureError as err:
        _error(err)
        raise typer.Exit(EXIT_ERROR) from None
    items = _listed(files, local, storage, _walk_options(include, exclude, follow_symlinks))
    work: Callable[[Any], Any] = partial(inspect_item, trust=settings, fetch_remote=fetch_remote)
    if digest is Digest.none:
        from .inspect import skip_digest

        work = partial(inspect_item, trust=settings, fetch_remote=fetch_remote, sha256_of=skip_digest)
    if storage is not None:
        from .remote import inspect_remote

        work = partial(inspect_remote, storage=storage, trust=settings, fetch_remote=fetch_remote)
    workers = effective_jobs(jobs, len(items)) if engine is Engine.local else (jobs or 2)
    with _progress(len(items), "reading") as advance:

        def arrived() -> Iterator[Outcome[Any]]:
            from .engine import run_in_order

            fetched = stored = 0
            failed = partial(_failed_outcome, remote=storage is not None)
            results = run_in_order(work, items, engine, workers, _size, scheduler, failed)
            for item, done in zip(items, results, strict=True):
                outcome, read = done if storage is not None else (done, 0)
                fetched, stored = fetched + read, stored + item.size
                advance(outcome)
                if outcome.error:
                    _error(DisclosureError(None, outcome.error))
                elif outcome.skipped and output_format is OutputFormat.text:
                    _print_skipped(outcome.skipped)
                elif outcome.result is not None and output_format is OutputFormat.text:
                    from .report.inspect_text import write_inspect_text

                    write_inspect_text(outcome.result, stdout.rich)
                yield outcome
            if storage is not None:
                _traffic(fetched, stored)

        if output_format is OutputFormat.json:
            read, errors = write_inspect_json(arrived(), sys.stdout)
        else:
            outcomes = [(o.result is not None, o.error is not None) for o in arrived()]
            read, errors = sum(r for r, _ in outcomes), sum(e for _, e in outcomes)
    raise typer.Exit(EXIT_ERROR if errors or _nothing_done(read, len(items), "read") else EXIT_OK)


def _listed(given: list[str], local: list[Path], storage: Storage | None, options: WalkOptions) -> list[Any]:
    """What a command reads: the walk of ``local`` paths, or the listing of ``given`` URLs in ``storage``."""
    if storage is None:
        return list(walk(local, options))
    from .remote import list_remote

    return list(list_remote(given, storage, options))


def _traffic(fetched: int, stored: int) -> None:
    """How much was read from object storage: the structures, digests and C2PA validation together."""
    share = f" ({100 * fetched / stored:.2f}% of the {stored:,} bytes stored)" if stored else ""
    stderr.print(f"read {fetched:,} bytes from storage{share}")


def _size(item: Any) -> int:
    return int(item.size)


def _failed_outcome(item: Any, reason: str, remote: bool = False) -> Any:
    where = str(getattr(item, "url", None) or item.path)
    outcome: Outcome[Any] = Outcome(where if getattr(item, "url", None) else Path(where), error=f"{where}: {reason}")
    return (outcome, 0) if remote else outcome


@app.command("schema", cls=_Command)
def schema_command(
    report: Annotated[bool, typer.Option("--report", help="The schema of `check --format json` instead.")] = False,
    inspect: Annotated[bool, typer.Option("--inspect", help="The schema of `inspect --format json` instead.")] = False,
    signoff: Annotated[
        bool, typer.Option("--signoff", help="The schema of the sign-off document `approve` writes instead.")
    ] = False,
) -> None:
    """Print the JSON Schema of the disclosure record (or of the check or inspect report, or the sign-off)."""
    from .check import report_json_schema
    from .record import record_json_schema
    from .report.inspect import inspect_json_schema

    if report + inspect + signoff > 1:
        _error(DisclosureError("schema", "--report, --inspect and --signoff exclude each other", "choose one"))
        raise typer.Exit(EXIT_ERROR)
    if signoff:
        from .signoff import signoff_json_schema

        _print_json(signoff_json_schema())
        return
    _print_json(report_json_schema() if report else inspect_json_schema() if inspect else record_json_schema())


PolicyOption = Annotated[
    list[str] | None,
    typer.Option(
        "--policy",
        "-p",
        metavar="NAME|FILE",
        help="A built-in policy name or a policy TOML file; repeatable. Default: genai-production. "
        "See `aidisclose policy list`.",
    ),
]
StrictOption = Annotated[bool, typer.Option("--strict", help="Warnings fail too.")]
ReportFormatOption = Annotated[
    ReportFormat,
    typer.Option(
        "--format", "-f", metavar="FORMAT", help="text for people; json, csv, junit for machines; html for QC."
    ),
]
ReportOutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", metavar="FILE", help="Write the report to this file instead of stdout.")
]


def _policies(names: list[str] | None) -> list[Policy]:
    """The policies named (built-in names or files), or the default one."""
    from .policy import load_policy

    return [load_policy(name) for name in (names or [DEFAULT_POLICY])]


@app.command("check", cls=_Command)
def check_command(
    paths: Annotated[
        list[str],
        typer.Argument(
            help="Files and folders (walked recursively), or object-storage URLs (s3://bucket/prefix).",
            show_default=False,
        ),
    ],
    policies: PolicyOption = None,
    strict: StrictOption = False,
    report_format: ReportFormatOption = ReportFormat.text,
    output: ReportOutputOption = None,
    trust: TrustOption = None,
    trust_allowed: TrustAllowedOption = None,
    trust_config: TrustConfigOption = None,
    trust_tsa: TrustTsaOption = None,
    trust_cawg: TrustCawgOption = None,
    trust_settings: TrustSettingsOption = None,
    fetch_ocsp: FetchOcspOption = False,
    jobs: JobsOption = None,
    include: IncludeOption = None,
    exclude: ExcludeOption = None,
    follow_symlinks: FollowOption = False,
    signoff: Annotated[
        Path | None,
        typer.Option("--signoff", metavar="OUT.json", help="With --format html: show this sign-off (`approve`)."),
    ] = None,
    engine: EngineOption = Engine.local,
    scheduler: SchedulerOption = None,
    digest: DigestOption = Digest.sha256,
    s3_endpoint: S3EndpointOption = None,
) -> None:
    """Check files against policies: a verdict per file, then the failing rules with expected vs found.

    Exit codes: 0 every file passes; 1 a policy failure; 2 a usage error, a file that could not be
    read (it is still a row in the report) or no file checked at all. Files in folders that are plainly
    not media (by name and content) and hidden ones are listed as skipped.

    [bold]Examples[/bold]

      aidisclose check delivery/ -p genai-production -p eu-ai-act-art50

      aidisclose check delivery/ --format junit --output aidisclose.xml

      aidisclose check delivery/ --format html --output qc-report.html

      aidisclose check s3://deliveries/ep101/ --engine dask --format junit --output aidisclose.xml
    """
    try:
        local, storage = _locations(paths, s3_endpoint, digest)
        loaded = _policies(policies)
        settings = _trust(trust, trust_allowed, trust_config, trust_tsa, trust_cawg, trust_settings, fetch_ocsp)
        view = _signoff_view(signoff, output, report_format, settings.anchors) if signoff else None
        stream: TextIO = open(output, "w", encoding="utf-8", newline="") if output else sys.stdout  # noqa: SIM115
    except OSError as exc:
        _error(DisclosureError(output, f"cannot write the report: {exc.strerror or exc}"))
        raise typer.Exit(EXIT_ERROR) from None
    except DisclosureError as err:
        _error(err)
        raise typer.Exit(EXIT_ERROR) from None
    # The same walk as check_paths: a path that does not exist is an error row of the report.
    items = _listed(paths, local, storage, _walk_options(include, exclude, follow_symlinks))
    clock = time.perf_counter()
    color = output is None and report_format is ReportFormat.text and stdout.is_terminal
    run = _Run(engine, scheduler, storage, digest is Digest.sha256)
    try:
        summary = _write_check(items, loaded, strict, settings, jobs, report_format, stream, color, view, run)
    except DisclosureError as err:  # the engine could not start (no Dask, no scheduler)
        _error(err)
        raise typer.Exit(EXIT_ERROR) from None
    finally:
        if output:
            stream.close()
    _check_done(summary, output, report_format, clock)
    raise typer.Exit(summary.exit_code)


def _check_done(summary: Summary, output: Path | None, report_format: ReportFormat, clock: float) -> None:
    if output is not None:
        stderr.print(f"wrote {report_format.value} report to {terminal_text(str(output))}")
    if output is not None or report_format is not ReportFormat.text:
        counts = {"passed": summary.passed, "failed": summary.failed, "errors": summary.errors}
        _summary({**counts, "skipped": summary.skipped}, summary.files, time.perf_counter() - clock)
    if summary.nothing_checked:
        _nothing_done(0, summary.files, "checked")


def _signoff_view(signoff: Path, output: Path | None, report_format: ReportFormat, anchors: bytes | None) -> Any:
    """The sign-off an HTML report shows, its signature checked against the --trust anchors; linked relatively."""
    import os

    from .report.html import SignoffView, document_href
    from .signoff import verify_signoff

    if report_format is not ReportFormat.html:
        raise DisclosureError("--signoff", "is shown in the HTML report only", "add --format html")
    verification = verify_signoff(signoff, anchors)
    if verification.parsed is None:
        raise DisclosureError(signoff, f"its signature does not verify: {verification.signature.message}")
    base = output.resolve().parent if output is not None else Path.cwd()
    href = document_href(Path(os.path.relpath(signoff.resolve(), base)).as_posix())
    return SignoffView(verification.parsed, href, f"{verification.signature.state}: {verification.signature.message}")


@dataclass(frozen=True)
class _Run:
    """Where a batch runs and what it reads: the engine, the storage of remote items, the digest."""

    engine: Engine = Engine.local
    scheduler: str | None = None
    storage: Storage | None = None
    digest: bool = True


def _failed_row(item: Any, reason: str) -> Any:
    """The row of a file whose batch the cluster could not run."""
    from .check import FileCheck, Verdict

    where = str(getattr(item, "url", None) or item.path)
    return FileCheck(path=where, verdict=Verdict.error, reason=f"{where}: {reason}")


def _checks(
    items: list[Any], policies: list[Policy], strict: bool, trust: TrustSettings, jobs: int, thumbnails: bool, run: _Run
) -> Iterator[FileCheck]:
    """Each item's FileCheck in order, from the engine and storage ``run`` names."""
    from .check import _check_item, iter_checks
    from .engine import run_in_order

    if run.storage is None and run.engine is Engine.local:
        yield from iter_checks(items, policies, strict, trust, jobs, thumbnails, run.digest)
        return
    if run.storage is None:
        from .carriers.base import file_sha256
        from .inspect import skip_digest

        sha256_of: Callable[[Path], str | None] = file_sha256 if run.digest else skip_digest
        work: Callable[[Any], Any] = partial(
            _check_item, policies=policies, strict=strict, trust=trust, thumbnails=thumbnails, sha256_of=sha256_of
        )
        yield from run_in_order(work, items, run.engine, jobs, item_size, run.scheduler, _failed_row)
        return
    from .remote import check_remote, remote_size

    remote = partial(check_remote, storage=run.storage, policies=policies, strict=strict, trust=trust)
    fetched = stored = 0
    pairs = run_in_order(
        remote, items, run.engine, jobs, remote_size, run.scheduler, lambda item, why: (_failed_row(item, why), 0)
    )
    for item, (file, read) in zip(items, pairs, strict=True):
        fetched, stored = fetched + read, stored + item.size
        yield file
    _traffic(fetched, stored)


def _write_check(
    items: list[Any],
    policies: list[Policy],
    strict: bool,
    trust: TrustSettings,
    jobs: int | None,
    report_format: ReportFormat,
    stream: TextIO,
    color: bool,
    signoff: Any = None,
    run: _Run | None = None,
) -> Summary:
    """Check ``items`` into a report on ``stream``, streamed where the format allows; its summary.

    ``jobs`` processes as asked, at most one per file: checking one file starts no pool.
    """
    from .check import ReportHead, Verdict, policy_infos, report_time
    from .report import streamer

    run = run or _Run()

    started, clock = dt.datetime.now(dt.UTC), time.perf_counter()
    with _progress(len(items), "checking") as advance:

        def arrived(files: Iterator[FileCheck]) -> Iterator[FileCheck]:
            for file in files:
                advance(file)
                if file.verdict is Verdict.error:
                    _error(DisclosureError(None, file.reason or file.path))
                yield file

        # A remote object's mirror holds no pixels: its report shows it by name.
        thumbnails = report_format in WITH_THUMBNAILS and run.storage is None
        workers = effective_jobs(jobs, len(items)) if run.engine is Engine.local else (jobs or 2)
        results = arrived(_checks(items, policies, strict, trust, workers, thumbnails, run))
        digest = "sha256" if run.digest else "none"
        # written as results come
        head = ReportHead(report_time(started), strict, policy_infos(policies), digest=digest)
        write = streamer(report_format)
        if signoff is not None:  # an HTML report that shows a sign-off (only HTML takes one)
            from .report.html import write_html_stream

            write = partial(write_html_stream, signoff=lambda: signoff)
        return write(results, head, stream, color, lambda: time.perf_counter() - clock)


@app.command("credits", cls=_Command)
def credits_command(
    paths: Annotated[
        list[str], typer.Argument(help="Files and folders of a delivery, or object-storage URLs.", show_default=False)
    ],
    credits_format: Annotated[
        CreditsFormat, typer.Option("--format", "-f", help="text for end credits; csv or json for tools.")
    ] = CreditsFormat.text,
    jobs: JobsOption = None,
    include: IncludeOption = None,
    exclude: ExcludeOption = None,
    follow_symlinks: FollowOption = False,
    engine: EngineOption = Engine.local,
    scheduler: SchedulerOption = None,
    s3_endpoint: S3EndpointOption = None,
) -> None:
    """Gather the AI credit lines and AI systems of a delivery into an end-credits list.

    The same credit line or system (name + provider) found in many files, of any format, is listed once,
    with its versions, purposes and the files it comes from.
    """
    from .credits import collect_credits, credits_csv, credits_text
    from .display import model_json

    try:
        local, storage = _locations(paths, s3_endpoint, Digest.none)  # credits need no digest
    except DisclosureError as err:
        _error(err)
        raise typer.Exit(EXIT_ERROR) from None
    options = _walk_options(include, exclude, follow_symlinks)
    outcomes: Iterator[Outcome[Any]] | None = None
    if storage is not None or engine is Engine.dask:
        outcomes = _read_for_credits(paths, local, storage, options, engine, scheduler, jobs)
    try:
        found = collect_credits(local, options, effective_jobs(jobs), outcomes)
    except DisclosureError as err:  # the engine could not start
        _error(err)
        raise typer.Exit(EXIT_ERROR) from None
    for problem in found.unreadable:
        _error(DisclosureError(None, problem))
    if credits_format is CreditsFormat.json:
        sys.stdout.write(model_json(found, indent=2) + "\n")
    elif credits_format is CreditsFormat.csv:
        sys.stdout.write(credits_csv(found))
    else:
        sys.stdout.write(credits_text(found))
    nothing = not found.unreadable and _nothing_done(found.files, found.files + len(found.skipped), "read")
    raise typer.Exit(EXIT_ERROR if found.unreadable or nothing else EXIT_OK)


def _read_for_credits(
    urls: list[str],
    local: list[Path],
    storage: Storage | None,
    options: WalkOptions,
    engine: Engine,
    scheduler: str | None,
    jobs: int | None,
) -> Iterator[Outcome[Any]]:
    """Each file read (no digest, no MediaInfo) on ``engine``, from storage or from ``local`` paths."""
    from .engine import run_in_order
    from .inspect import inspect_item, skip_digest

    workers = effective_jobs(jobs) if engine is Engine.local else (jobs or 2)
    items = _listed(urls, local, storage, options)
    if storage is None:
        work = partial(inspect_item, technical=False, sha256_of=skip_digest)
        yield from run_in_order(work, items, engine, workers, item_size, scheduler, _failed_outcome)
        return
    from .remote import inspect_remote, remote_size

    read = partial(inspect_remote, storage=storage, technical=False)
    failed = partial(_failed_outcome, remote=True)
    for outcome, _ in run_in_order(read, items, engine, workers, remote_size, scheduler, failed):
        yield outcome


WatchReportOption = Annotated[
    Path | None,
    typer.Option("--report", metavar="FOLDER", help="Write a JSON report per arrival into this folder."),
]
WatchPolicyOption = Annotated[
    list[str] | None,
    typer.Option(
        "--policy",
        "-p",
        metavar="NAME|FILE",
        help="Policy name or file; repeatable. Default: genai-production (with --stamp: check only when given, "
        "or with --report).",
    ),
]
SettleOption = Annotated[
    float,
    typer.Option(
        "--settle",
        metavar="SECONDS",
        min=0,
        help="Seconds a file's size and mtime must stay unchanged before it is read; where Linux can tell, a file "
        "still open for writing is not read however long it pauses. 3 s outlasts a copy that stalls for 2 s.",
    ),
]
StampFlag = Annotated[
    bool,
    typer.Option(
        "--stamp",
        help="Hot folder: stamp each arrival into --output (and sign it with --sign), then check it if a policy "
        "is given. Files already there are done first; a folder's aidisclose.toml is laid over --record for the "
        "files under it; a file that fails is copied to OUTPUT/_failed with NAME.txt saying why. Nothing in "
        "FOLDER is written. A restart does only what is not done.",
    ),
]
NoFolderRecordsOption = Annotated[
    bool,
    typer.Option(
        "--no-folder-records",
        help="With --stamp: ignore the aidisclose.toml files in FOLDER (whoever can write into FOLDER can "
        "otherwise change any field of the record of the files under it); --record, --records and --set alone.",
    ),
]
RescanOption = Annotated[
    float,
    typer.Option(
        "--rescan",
        metavar="SECONDS",
        min=1,
        help="With --stamp: look through FOLDER again this often, for files no event told of (a network share).",
    ),
]


@app.command("watch", cls=_Command)
def watch_command(
    folder: Annotated[Path, typer.Argument(help="The folder to watch (with its subfolders).")],
    policies: WatchPolicyOption = None,
    report_dir: WatchReportOption = None,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings fail too.")] = False,
    trust: TrustOption = None,
    trust_allowed: TrustAllowedOption = None,
    trust_config: TrustConfigOption = None,
    trust_tsa: TrustTsaOption = None,
    trust_cawg: TrustCawgOption = None,
    trust_settings: TrustSettingsOption = None,
    fetch_ocsp: FetchOcspOption = False,
    quiet: SettleOption = 3.0,
    stamping: StampFlag = False,
    record_path: RecordOption = None,
    records: RecordsOption = None,
    overrides: SetOption = None,
    output: OutputOption = None,
    sign_flag: SignOption = False,
    sign_cert: SignCertOption = None,
    sign_key: SignKeyOption = None,
    sign_config: SignConfigOption = None,
    tsa_url: TsaOption = None,
    redact: RedactOption = None,
    replace_standard: ReplaceStandardOption = False,
    discard_credentials: DiscardOption = False,
    rescan: RescanOption = 60.0,
    no_folder_records: NoFolderRecordsOption = False,
    include: IncludeOption = None,
    exclude: ExcludeOption = None,
) -> None:
    """Check each file as it lands in FOLDER or changes, once settled; with --stamp, stamp it first. Ctrl-C stops.

    [bold]Examples[/bold]

      aidisclose watch incoming/ --policy genai-production --report reports/

      aidisclose watch exports/ --stamp -r show.toml -o stamped/ --sign --sign-config sign.toml
    """
    from .watch import prepare_report_folder  # watchdog: only this command loads it

    try:
        if not folder.is_dir():
            raise DisclosureError(folder, "is not a folder")
        loaded = _policies(policies) if not stamping or policies or report_dir is not None else None
        settings = _trust(trust, trust_allowed, trust_config, trust_tsa, trust_cawg, trust_settings, fetch_ocsp)
        if report_dir is not None:
            prepare_report_folder(report_dir)
        signing = _signing(sign_flag, sign_cert, sign_key, sign_config, tsa_url) if stamping else None
        hot = _hot_folder_settings(stamping, output, record_path, records, overrides, signing, redact,
                                   replace_standard, discard_credentials, include, exclude)  # fmt: skip
        if no_folder_records and hot is None:
            raise DisclosureError("watch", "--no-folder-records is for --stamp", "add --stamp")
    except DisclosureError as err:
        _error(err)
        raise typer.Exit(EXIT_ERROR) from None
    if hot is not None:
        _watch_stamping(folder, *hot, loaded, strict, settings, quiet, rescan, report_dir, not no_folder_records)
        return
    _watch_checking(folder, loaded or [], strict, settings, quiet, report_dir)


def _watch_checking(
    folder: Path, policies: list[Policy], strict: bool, trust: TrustSettings, quiet: float, report_dir: Path | None
) -> None:
    """``watch`` without --stamp: each arrival's verdict line and report."""
    from .watch import watch  # watchdog: only this command loads it

    def started() -> None:
        stderr.print(f"watching {terminal_text(str(folder))} (Ctrl-C to stop)")

    verdict = partial(_print_verdict, report_dir=report_dir)
    watch(folder, policies, verdict, strict=strict, trust=trust, quiet=quiet, on_started=started)
    stderr.print("stopped", highlight=False)


def _hot_folder_settings(
    stamping: bool,
    output: Path | None,
    record: Path | None,
    records: Path | None,
    overrides: list[str] | None,
    signing: SigningIdentity | None,
    redact: str | None,
    replace_standard: bool,
    discard_credentials: bool,
    include: list[str] | None,
    exclude: list[str] | None,
) -> tuple[RecordLayers, StampOptions, WalkOptions] | None:
    """The record layers and stamp options of ``watch --stamp`` (None without it), checked before watching."""
    from .plan import RecordLayers, StampOptions, parse_redactions

    if not stamping:
        if record or records or overrides or output or include or exclude:
            raise DisclosureError(
                "watch", "--record, --records, --set, --output, --include and --exclude are for --stamp", "add --stamp"
            )
        return None
    if output is None:
        raise DisclosureError("watch", "--stamp needs --output FOLDER", "the stamped copies go there")
    options = StampOptions(
        output, signing=signing, redact=parse_redactions(redact), replace_standard=replace_standard,
        discard_credentials=discard_credentials,
    )  # fmt: skip
    return RecordLayers.load(record, records, overrides or ()), options, _walk_options(include, exclude, False)


def _print_verdict(file: FileCheck, report: CheckReport, report_dir: Path | None) -> None:
    """One arrival's verdict line, and its JSON report in ``report_dir``."""
    from .watch import write_arrival_report

    _print_verdict_line(file)
    if report_dir is not None:
        try:
            write_arrival_report(report_dir, file, report)
        except DisclosureError as err:
            _error(err)  # the next arrival is still checked


def _print_verdict_line(file: FileCheck) -> None:
    style = {"pass": "green", "fail": "red"}.get(file.verdict.value, "magenta")
    failing = [r.rule for r in file.results if r.outcome.value == "fail"]
    detail = f" ({', '.join(failing)})" if failing else (f" ({file.reason})" if file.reason else "")
    from rich.markup import escape

    line = f"[{style}]{file.verdict.value.upper():5}[/{style}] {escape(terminal_text(file.path + detail))}"
    stdout.print(line, markup=True)


def _watch_stamping(
    folder: Path,
    layers: RecordLayers,
    options: StampOptions,
    walking: WalkOptions,
    policies: list[Policy] | None,
    strict: bool,
    trust: TrustSettings,
    quiet: float,
    rescan: float,
    report_dir: Path | None,
    folder_records: bool = True,
) -> None:
    """``watch --stamp``: a hot folder, each arrival's lines as it is done."""
    import threading

    from .hotfolder import FOLDER_RECORD, HotFolder
    from .watch import Arrivals, run_watch

    again, stop = threading.Event(), threading.Event()
    try:
        hot = HotFolder(folder, layers, options, policies, strict, trust, report_dir, walking, folder_records)
    except DisclosureError as err:
        _error(err)
        raise typer.Exit(EXIT_ERROR) from None
    leave_out = (hot.output, *([report_dir] if report_dir is not None else []))
    arrivals = Arrivals(hot.inbox, leave_out, frozenset({FOLDER_RECORD}), again.set, hot.wanted)

    def arrived(path: Path) -> None:
        arrival = hot.process(path)
        if hot.lost is not None:
            stop.set()  # another watch writes into --output now: this one stops (exit 2)
            return
        if arrival is None:
            return
        outcome = arrival.outcome
        if outcome.result is not None:
            _print_stamped(outcome.result)
        elif outcome.skipped is not None:
            _print_skipped(outcome.skipped)
        else:
            _error_text(outcome.error or "")
        if arrival.failed_copy is not None:
            stdout.print(f"failed {terminal_text(str(path))} -> {terminal_text(str(arrival.failed_copy))}")
        if arrival.check is not None:
            _print_verdict_line(arrival.check[0])
        for problem in arrival.problems:
            _error_text(terminal_text(problem))

    try:
        with hot.locked():
            line = f"watching {terminal_text(str(folder))}, stamping into {terminal_text(str(hot.output))}"
            run_watch(arrivals, arrived, quiet, stop, scan=partial(hot.scan, _print_skipped), rescan=again,
                      rescan_every=rescan, on_started=partial(stderr.print, line))  # fmt: skip
    except DisclosureError as err:
        _error(err)
        raise typer.Exit(EXIT_ERROR) from None
    if hot.lost is not None:
        _error_text(terminal_text(hot.lost))
        raise typer.Exit(EXIT_ERROR)
    stderr.print("stopped", highlight=False)


ReviewerOption = Annotated[
    str, typer.Option("--reviewer", metavar="NAME", help="Who signs off: written as qc.by (and human_review.reviewer).")
]
RoleOption = Annotated[
    str | None, typer.Option("--role", metavar="ROLE", help="The reviewer's role, e.g. 'QC lead'.")
]
NotesOption = Annotated[str | None, typer.Option("--notes", metavar="TEXT", help="Notes kept with the review.")]
SignoffOption = Annotated[
    Path,
    typer.Option(
        "--signoff",
        metavar="OUT.json",
        help="Write the sign-off document here (with --sign, and its detached CMS signature OUT.json.p7s).",
    ),
]
ApproveReportOption = Annotated[
    Path | None,
    typer.Option("--report", metavar="FOLDER", help="Also write an HTML QC report showing the sign-off (OUT.html)."),
]


@app.command("approve", cls=_Command)
def approve_command(
    paths: Annotated[list[Path], typer.Argument(help="Files and folders (walked recursively).", show_default=False)],
    reviewer: ReviewerOption,
    signoff: SignoffOption,
    role: RoleOption = None,
    notes: NotesOption = None,
    policies: PolicyOption = None,
    strict: StrictOption = False,
    sign_flag: Annotated[
        bool,
        typer.Option(
            "--sign",
            help="Sign the sign-off document (detached CMS, OUT.json.p7s) with the reviewer's certificate, and "
            "sign again the C2PA manifest of each approved file that has one (the earlier one kept as ingredient).",
        ),
    ] = False,
    sign_cert: SignCertOption = None,
    sign_key: SignKeyOption = None,
    sign_config: SignConfigOption = None,
    tsa_url: TsaOption = None,
    report_dir: ApproveReportOption = None,
    trust: TrustOption = None,
    trust_settings: TrustSettingsOption = None,
    jobs: JobsOption = None,
    include: IncludeOption = None,
    exclude: ExcludeOption = None,
    follow_symlinks: FollowOption = False,
    output_format: FormatOption = OutputFormat.text,
) -> None:
    """QC sign-off: check each file as it will stand approved, and write the review into those that pass.

    A file that passes every policy with the review recorded gets qc {by, role, date} (and an approved
    human_review where a policy reads one) written in place, every other value kept; one with C2PA
    credentials is signed again (needs --sign). Failing and unreadable files are left untouched. Each
    approved file is checked again; OUT.json lists every file with its sha256 before and after.
    Exit codes as check: 0 every file approved; 1 a policy failure; 2 a file that could not be read or written.

    [bold]Examples[/bold]

      aidisclose approve delivery/ --reviewer "R. Lead" --role "QC lead" --signoff signoff.json

      aidisclose approve delivery/ --reviewer "R. Lead" --signoff signoff.json --sign --sign-config me.toml
    """
    from .approve import ApproveJob, Reviewer, asks_for_review, review_time

    try:
        loaded = _policies(policies)
        settings = _trust(trust, None, None, None, None, trust_settings)
        signing = _signing(sign_flag, sign_cert, sign_key, sign_config, tsa_url)
        who, date = Reviewer(reviewer, role, notes), review_time()
        qc, review = who.validated(date)
        _check_signoff_target(signoff, signing, report_dir)
    except DisclosureError as err:
        _error(err)
        raise typer.Exit(EXIT_ERROR) from None
    job = ApproveJob(loaded, qc, review if asks_for_review(loaded) else None, signing, strict, settings,
                     thumbnails=report_dir is not None)  # fmt: skip
    items = list(walk(paths, _walk_options(include, exclude, follow_symlinks)))
    raise typer.Exit(_run_approve(items, job, who, date, signoff, report_dir, jobs, output_format))


def _check_signoff_target(signoff: Path, signing: SigningIdentity | None, report_dir: Path | None) -> None:
    """Before any file is approved: the document's folder exists, the key can sign CMS, the report folder is one."""
    from .signoff import sign_document

    folder = signoff.parent if str(signoff.parent) else Path(".")
    if not folder.is_dir():
        raise DisclosureError(signoff, f"cannot be written: {folder} is not a folder", "create it first")
    if signoff.is_dir():
        raise DisclosureError(signoff, "is a folder", "give a file name, e.g. signoff.json")
    if signing is not None:
        sign_document(b"", signing)  # a key the CMS signature cannot use is refused before any file is written
    if report_dir is not None:
        try:
            report_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DisclosureError(report_dir, f"cannot create the report folder: {exc.strerror or exc}") from None


def _run_approve(
    items: list[Item],
    job: Any,
    who: Any,
    date: str,
    signoff: Path,
    report_dir: Path | None,
    jobs: int | None,
    output_format: OutputFormat,
) -> int:
    """Approve ``items``, each file's line as it is done; write the document (signed) and the HTML report."""
    from dataclasses import replace

    from .approve import FileApproval, iter_approvals, signoff_document
    from .check import policy_infos
    from .signoff import write_signoff

    approvals: list[FileApproval] = []
    clock = time.perf_counter()
    with _progress(len(items), "approving") as advance:

        def arrived() -> Iterator[FileApproval]:
            for approval in iter_approvals(items, job, effective_jobs(jobs, len(items))):
                advance(approval)
                _print_approval(approval, output_format)
                approvals.append(replace(approval, check=approval.check.model_copy(update={"thumbnail": None})))
                yield approval  # its picture goes to the HTML report's spool, not into memory

        def document() -> Any:
            return signoff_document(approvals, who, date, policy_infos(job.policies), job.strict)

        unwritten: DisclosureError | None = None
        try:
            report = _approve_report(arrived(), job, date, signoff, report_dir, document, clock)
        except DisclosureError as err:  # no page: the files approved until then still get their document
            unwritten, report = err, None
        try:
            made = document()
            signature = write_signoff(signoff, made, job.signing)
            if report is not None:
                report[0].replace(report[1])
        except (DisclosureError, OSError) as err:
            _error(err if isinstance(err, DisclosureError) else DisclosureError(err.filename, str(err.strerror)))
            return EXIT_ERROR
        finally:
            if report is not None:
                report[0].unlink(missing_ok=True)  # the page goes in place only beside the document it shows
    _approve_done(made, signoff, signature, report[1] if report else None, output_format, time.perf_counter() - clock)
    if unwritten is not None:
        _error(unwritten)
        return EXIT_ERROR
    if made.summary.nothing_checked:
        _nothing_done(0, made.summary.files, "checked")
    return int(made.summary.exit_code)


def _print_approval(approval: Any, output_format: OutputFormat) -> None:
    from .check import Verdict

    if approval.verdict is Verdict.error:
        _error_text(approval.reason or approval.check.reason or approval.path)
    if output_format is not OutputFormat.text:
        return
    if approval.approved:
        check = approval.check
        resigned = "; C2PA signed again" if approval.c2pa_resigned else ""
        line = (f"approved {terminal_text(approval.path)} ({check.verdict.value} after approval; sha256 "
                f"{approval.sha256_before} -> {check.sha256}{resigned})")  # fmt: skip
        stdout.print(line, markup=False, highlight=False)
        for note in approval.notes:
            stderr.print(f"  note: {terminal_text(approval.path)}: {terminal_text(note)}", markup=False)
    elif approval.verdict is Verdict.skipped:
        _print_skipped(approval.reason or approval.path)
    elif approval.verdict is not Verdict.error:
        stdout.print(f"not approved {terminal_text(approval.reason or approval.path)}", markup=False, highlight=False)


def _approve_report(
    approvals: Iterator[Any],
    job: Any,
    date: str,
    signoff: Path,
    report_dir: Path | None,
    document: Callable[[], Any],
    clock: float,
) -> tuple[Path, Path] | None:
    """The HTML report of the approvals, into a temporary file beside its place (renamed once the document is)."""
    import os
    import tempfile

    from .check import ReportHead, policy_infos
    from .report.html import SignoffView, document_href, write_html_stream
    from .signoff import signer_subject

    if report_dir is None:
        for _ in approvals:
            pass
        return None
    target = report_dir / (signoff.stem + ".html")
    href = document_href(Path(os.path.relpath(signoff.resolve(), report_dir.resolve())).as_posix())
    signer = signer_subject(job.signing) if job.signing is not None else None
    state = f"signed (detached CMS, {signoff.name}.p7s) by {signer}" if signer else "unsigned"

    def view() -> SignoffView:
        return SignoffView(document(), href, state)

    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".aidisclose-tmp", dir=report_dir)
    except OSError as exc:
        raise DisclosureError(report_dir, f"cannot write the HTML report here: {exc.strerror or exc}") from None
    temp = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as stream:
            head = ReportHead(date, job.strict, policy_infos(job.policies))
            write_html_stream((a.check for a in approvals), head, stream, False,
                              lambda: time.perf_counter() - clock, view)  # fmt: skip
        os.chmod(temp, 0o644)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        reason = f"cannot write the HTML report: {exc.strerror or exc}; approving stopped"
        raise DisclosureError(target, reason) from None
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp, target


def _approve_done(
    document: Any, signoff: Path, signature: Path | None, report: Path | None, output: OutputFormat, seconds: float
) -> None:
    if output is OutputFormat.json:
        import json

        from .display import model_json

        files = {"signoff": str(signoff), "signature": str(signature) if signature else None}
        _print_json({**files, "report": str(report) if report else None, "document": json.loads(model_json(document))})
    s = document.summary
    signed = f", signed: {terminal_text(str(signature))}" if signature else ", unsigned"
    stderr.print(f"wrote sign-off to {terminal_text(str(signoff))}{signed}", markup=False, highlight=False)
    if report is not None:
        stderr.print(f"wrote html report to {terminal_text(str(report))}", markup=False, highlight=False)
    counts = {"approved": len(document.files), "not approved": len(document.not_approved) - s.skipped}
    _summary({**counts, "skipped": s.skipped}, s.files, seconds)


signoff_app = typer.Typer(help="Check QC sign-off documents written by `aidisclose approve`.", no_args_is_help=True,
                          cls=_Group)  # fmt: skip
app.add_typer(signoff_app, name="signoff")


@signoff_app.command("verify", cls=_Command)
def signoff_verify(
    document: Annotated[Path, typer.Argument(help="The sign-off document (OUT.json); its signature is OUT.json.p7s.")],
    trust: Annotated[
        Path | None,
        typer.Option(
            "--trust",
            metavar="FILE",
            envvar="AIDISCLOSE_TRUST_ANCHORS",
            help="PEM trust anchors the reviewer's certificate must chain to (without them nothing vouches for it).",
        ),
    ] = None,
    against: Annotated[
        Path | None,
        typer.Option("--against", metavar="FOLDER", help="Check every approved file there still has its sha256."),
    ] = None,
    allow_unsigned: Annotated[
        bool, typer.Option("--allow-unsigned", help="An unsigned document is not a failure (its files still are).")
    ] = False,
    listed_only: Annotated[
        bool,
        typer.Option(
            "--listed-only",
            help="With --against: check only the files the document lists (a sign-off of some files of a folder); "
            "without it, files there that were not approved or were added since fail.",
        ),
    ] = False,
    output_format: FormatOption = OutputFormat.text,
) -> None:
    """Verify a sign-off: its detached CMS signature, the signer's chain to --trust, and with --against its files.

    Exit codes: 0 verified; 1 verification failed (a changed byte of the document or of a file, an
    untrusted or missing signature); 2 bad input (no such document, not a sign-off document).
    """
    from .signoff import verify_signoff

    try:
        result = verify_signoff(document, _anchors(trust), against, listed_only)
    except DisclosureError as err:
        _error(err)
        raise typer.Exit(EXIT_ERROR) from None
    ok = result.ok(allow_unsigned)
    if output_format is OutputFormat.json:
        _print_json(result.to_json_dict(allow_unsigned))
    else:
        sig = result.signature
        label = "ok" if sig.ok or (allow_unsigned and sig.state == "unsigned") else "FAILED"
        stdout.print(f"signature {label}: {sig.state}: {terminal_text(sig.message)}", markup=False, highlight=False)
        for file in result.files:
            stdout.print(f"{'ok' if file.state == 'ok' else file.state.upper()} {file.message}", markup=False,
                         highlight=False)  # fmt: skip
        if result.listed_only:
            stdout.print(f"not checked: the other files in {terminal_text(str(against))} (--listed-only)",
                         markup=False, highlight=False)  # fmt: skip
    if not ok:
        failed = [f.path for f in result.files if f.state != "ok"]
        named = f"; files: {', '.join(terminal_text(p) for p in failed)}" if failed else ""
        stderr.print(f"aidisclose: {terminal_text(str(document))}: verification failed ({result.signature.state}"
                     f"{named})", markup=False, highlight=False)  # fmt: skip
    raise typer.Exit(EXIT_OK if ok else EXIT_POLICY)


policy_app = typer.Typer(help="List, show and copy the built-in policies.", no_args_is_help=True, cls=_Group)
app.add_typer(policy_app, name="policy")


@policy_app.command("list", cls=_Command)
def policy_list(output_format: FormatOption = OutputFormat.text) -> None:
    """The built-in policies, with their descriptions and the laws and guidance each checks."""
    from .policy import builtin_names, load_policy

    policies = [load_policy(name) for name in builtin_names()]
    if output_format is OutputFormat.json:
        sys.stdout.write(json_dumps([policy_facts(p) for p in policies], indent=2) + "\n")
        return
    for policy in policies:
        line = f"{policy.name:18} {len(policy.rules):3} rules  {policy.description}"
        stdout.print(terminal_text(line), markup=False, highlight=False)
        for reference in policy.references:
            stdout.print(f"{'':24}source: {terminal_text(reference)}", markup=False, highlight=False)


@policy_app.command("show", cls=_Command)
def policyshow_value(
    name: Annotated[str, typer.Argument(help="A built-in policy name.")],
    output_format: FormatOption = OutputFormat.text,
) -> None:
    """Print a built-in policy: what it extends and its sources (the laws and guidance it checks), then its TOML."""
    from .policy import builtin_text, load_policy

    try:
        text, policy = builtin_text(name), load_policy(name)
    except DisclosureError as err:
        _error(err)
        raise typer.Exit(EXIT_ERROR) from None
    if output_format is OutputFormat.json:
        sys.stdout.write(json_dumps(policy_facts(policy), indent=2) + "\n")
        return
    sys.stdout.write(policy_header(policy) + text)


def policy_facts(policy: Policy) -> dict[str, Any]:
    """A policy as ``policy list/show --format json`` give it: name, what it extends, sources, rules."""
    return {
        "name": policy.name,
        "description": policy.description,
        "extends": [s.removeprefix("builtin:") for s in policy.sources[:-1]],
        "references": list(policy.references),
        "sha256": policy.sha256,
        "rules": [
            {"id": r.id, "level": r.level.value, "message": r.message, **({"pillar": r.pillar} if r.pillar else {})}
            for r in policy.rules
        ],
    }


def policy_header(policy: Policy) -> str:
    """TOML comment lines naming a policy, the policies it extends and its sources, for ``policy show``."""
    lines = [f"# {policy.name}: {policy.description}"]
    parents = [s.removeprefix("builtin:") for s in policy.sources[:-1]]
    if parents:
        lines.append(f"# extends: {' -> '.join(parents)} (whose rules run too)")
    lines.append("# sources:" if policy.references else "# sources: none given")
    lines.extend(f"#   - {reference}" for reference in policy.references)
    return "\n".join(terminal_text(line) for line in lines) + "\n#\n"


@policy_app.command("init", cls=_Command)
def policy_init(
    name: Annotated[str, typer.Argument(help="The built-in policy to start from.")] = DEFAULT_POLICY,
    path: Annotated[Path, typer.Argument(help="Where to write it.")] = Path("policy.toml"),
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
) -> None:
    """Write a policy that extends a built-in one, ready for your own rules and levels."""
    from .policy import load_policy

    try:
        load_policy(name)
    except DisclosureError as err:
        _error(err)
        raise typer.Exit(EXIT_ERROR) from None
    _write_new_file(path, policy_template(name), force)
    stderr.print(f"wrote {path}; check with: aidisclose check FILES --policy {path}", markup=False, highlight=False)


def _write_new_file(path: Path, text: str, force: bool) -> None:
    from .safewrite import write_new_file

    try:
        write_new_file(path, text, replace=force)
    except DisclosureError as err:
        _error(err)
        raise typer.Exit(EXIT_ERROR) from None


def policy_template(name: str) -> str:
    from .policy import load_policy

    rules = "\n".join(f'# "{r.id}" = "{r.level.value}"' for r in load_policy(name).rules)
    return f"""# A studio policy built on the built-in '{name}' (see `aidisclose policy show {name}`).
# Change a rule's level (error, warning, info, off) under [levels], or add [[rules]].

[policy]
name = "my-{name}"
description = "Studio rules on top of {name}"
extends = "{name}"

[levels]
{rules}

# [[rules]]
# id = "studio.asset-id"
# level = "error"
# message = "Every deliverable needs our asset id."
# test = {{ field = "asset_id", matches = "^[A-Z]+[0-9]{{3}}_V[0-9]{{3}}$" }}
"""


@app.command("init", cls=_Command)
def init_command(
    path: Annotated[Path, typer.Argument(help="Where to write the template; - prints it.")] = Path("record.toml"),
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
) -> None:
    """Write a commented disclosure-record template (TOML) to fill in."""
    from .record import RECORD_TEMPLATE

    if str(path) == "-":
        sys.stdout.write(RECORD_TEMPLATE)
        return
    _write_new_file(path, RECORD_TEMPLATE, force)
    stderr.print(
        f"wrote {path}; edit it, then: aidisclose stamp FILE --record {path} --output out/",
        markup=False,
        highlight=False,
    )


@app.command("serve", cls=_Command)
def serve_command(
    root: Annotated[Path, typer.Option("--root", metavar="DIR", help="The folder the app may read and write.")] = Path(
        "."
    ),
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port to listen on (0: a free one).")] = 8765,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on; anything but 127.0.0.1 is reachable from others.")
    ] = "127.0.0.1",
    max_upload_mb: Annotated[int, typer.Option("--max-upload-mb", min=1, help="Largest upload, in MiB.")] = 512,
    sign_cert: SignCertOption = None,
    sign_key: SignKeyOption = None,
    trust: TrustOption = None,
) -> None:
    """Start the local web app: fill in a record, stamp, inspect, review and sign off a delivery.

    Prints a URL holding a random token: only a browser that opened it can use the app. Every path is
    confined to --root. Needs the web extra: pip install 'aidisclose[web]'. Ctrl-C stops.
    """
    from .web import ServeOptions, serve

    try:
        serve(ServeOptions(root, host, port, max_upload_mb, sign_cert, sign_key, trust))
    except DisclosureError as err:
        _error(err)
        raise typer.Exit(EXIT_ERROR) from None
    except KeyboardInterrupt:
        pass


@app.command("server", cls=_Command)
def server_command(
    socket: Annotated[
        Path | None,
        typer.Option(
            "--socket",
            metavar="PATH",
            help="Where to listen (default: AIDISCLOSE_SOCKET, else aidisclose-UID/server.sock in "
            "XDG_RUNTIME_DIR or /tmp); its folder must be yours alone.",
            show_default=False,
        ),
    ] = None,
    idle_minutes: Annotated[
        float, typer.Option("--idle-minutes", min=0, help="Stop after this long without a call (0: never).")
    ] = 60,
) -> None:
    """Keep aidisclose loaded so that each call of one file starts in milliseconds, not a third of a second.

    While it runs, every `aidisclose` command of this user (but server, serve and watch) is run by a
    process it forks for the call, exactly as the call's own process would run it: same arguments,
    environment, folder, streams and exit status. For export hooks and QC tools that call aidisclose once
    per file. A call from another box than the server's (other limits, nice value, namespaces, control
    group, PYTHON* settings) runs in its own process, as does every call with AIDISCLOSE_SERVER=off. Runs
    in the foreground: Ctrl-C or SIGTERM stops it; it stops by itself when its code is upgraded.
    """
    from .server import serve

    def ready(line: str) -> None:
        stderr.print(f"aidisclose server: {line}", markup=False, highlight=False)

    try:
        serve(socket, idle_minutes * 60, ready, main)
    except DisclosureError as err:
        _error(err)
        raise typer.Exit(EXIT_ERROR) from None


keys_app = typer.Typer(help="Make C2PA signing keys for testing.", no_args_is_help=True, cls=_Group)
app.add_typer(keys_app, name="keys")


@keys_app.command("init", cls=_Command)
def keys_init(
    folder: Annotated[Path, typer.Argument(help="Where to write chain.pem, key.pem and ca.pem.")],
    force: Annotated[bool, typer.Option("--force", help="Replace keys already there.")] = False,
) -> None:
    """Make a local TEST CA and signing certificate (UNTRUSTED, for testing only).

    chain.pem (signing certificate + CA) and key.pem sign; ca.pem is the trust anchor to pass to
    --trust. Never use them for deliveries: get a certificate from a CA for that.
    """
    from .carriers.c2pa.identity import make_test_ca

    try:
        paths = make_test_ca(folder, force)
    except DisclosureError as err:
        _error(err)
        raise typer.Exit(EXIT_ERROR) from None
    stderr.print(
        f"wrote TEST-ONLY, UNTRUSTED keys: {paths['chain']} {paths['key']} {paths['ca']}\n"
        f"sign:   aidisclose stamp FILE -r record.toml -o out/ --sign --sign-cert {paths['chain']} "
        f"--sign-key {paths['key']}\n"
        f"verify: aidisclose inspect out/FILE --trust {paths['ca']}",
        markup=False,
        highlight=False,
    )


def main() -> None:
    # Start-up leaves ~40,000 long-lived objects (modules, classes, pydantic schemas). Frozen, the cyclic
    # collector stops re-walking them every few hundred allocations, and forked workers share their pages
    # untouched; a larger first generation does the rest. Measured on a 1,000-file check: ~10% less time.
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)
    # pydantic's first validation looks for plugins by scanning every installed package's metadata (~90 ms
    # of a one-file run); the command line has none. Set the variable yourself to load them anyway.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    exit_on_signals()
    app_for(sys.argv[1:])()


def app_for(argv: list[str]) -> typer.Typer:
    """The app with only the command ``argv`` names: Typer builds the options of every command it holds
    before it parses (a fifth of a one-file call), and a call runs one.

    A line naming no command builds none (``--version``). The app's own help (``--help`` before any
    command), no arguments (which shows help) and a name that is no command get the whole app, so
    listings and "did you mean" are whole.
    """
    at = next((i for i, arg in enumerate(argv) if not arg.startswith("-")), len(argv))
    name = argv[at] if at < len(argv) else None
    commands = [info for info in app.registered_commands if info.name == name]
    groups = [info for info in app.registered_groups if info.name == name]
    if not argv or "--help" in argv[:at] or (name is not None and not (commands or groups)):
        return app
    trimmed = copy.copy(app)
    trimmed.registered_commands, trimmed.registered_groups = commands, groups
    return trimmed
