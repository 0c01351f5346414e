"""Policies cannot be swapped or stalled: built-in names, linear-time patterns, malformed inputs, watch reports."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from aidisclose import DisclosureError, load_record, stamp
from aidisclose.carriers.c2pa.identity import make_test_ca
from aidisclose.policy import load_policy, run_policy

from .conftest import EXAMPLE_RECORD, FIXTURES, run_cli

AIDISCLOSE = Path(sys.executable).with_name("aidisclose")
IMAGE = FIXTURES / "images" / "overlay.png"
LAX = '[policy]\nname = "lax"\n\n[[rules]]\nid = "lax.x"\nmessage = "m"\ntest = { field = "title", exists = false }\n'
DEEP = "[" * 100_000 + "]" * 100_000


def write(folder: Path, text: str, name: str = "policy.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def refused(path: Path) -> str:
    """The one line load_policy gives for the policy at ``path``."""
    with pytest.raises(DisclosureError) as err:
        load_policy(path)
    line = err.value.one_line()
    assert "\n" not in line and str(path) in line
    return line


# -- built-in names mean built-in policies ---------------------------------------------------------------


def test_a_file_named_like_a_builtin_policy_in_the_delivery_does_not_replace_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, LAX, "genai-production")
    shutil.copyfile(IMAGE, tmp_path / "shot010.png")  # unstamped: the built-in policy fails it
    for args in ((), ("--policy", "genai-production")):
        result = run_cli("check", "shot010.png", *args, "-f", "json")
        assert result.exit_code == 1, result.stdout
        assert result.json()["policies"][0]["sources"] == ["builtin:genai-production"]
    given_as_path = run_cli("check", "shot010.png", "--policy", "./genai-production", "-f", "json")
    assert given_as_path.json()["policies"][0]["name"] == "lax" and given_as_path.exit_code == 0


def test_extends_with_a_builtin_name_reads_the_builtin_whatever_the_current_folder_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    studio = tmp_path / "studio"
    studio.mkdir()
    policy = write(studio, '[policy]\nname = "studio"\nextends = "genai-production"\n')
    monkeypatch.chdir(tmp_path)
    write(tmp_path, LAX, "genai-production")
    loaded = load_policy(policy)
    assert loaded.sources == ("builtin:genai-production", str(policy))
    assert "attribution.ai-used-declared" in {r.id for r in loaded.rules}


# -- patterns run in linear time ---------------------------------------------------------------------------


def test_the_personal_data_rule_checks_a_long_prompt_in_linear_time() -> None:
    policy = load_policy("genai-production")
    prompt = {"prompts": [{"text": "a" * 80_000}]}
    clock = time.perf_counter()
    results = {r.rule: r for r in run_policy(policy, prompt, {})}
    assert time.perf_counter() - clock < 2.0  # 10 s and more with a backtracking engine
    assert results["transparency.prompts-personal-data"].outcome.value == "pass"
    for personal in ("write to jane.doe@example.com", "call +44 20 7946 0958"):
        found = {r.rule: r for r in run_policy(policy, {"prompts": [{"text": personal}]}, {})}
        assert found["transparency.prompts-personal-data"].outcome.value == "warn"


def test_a_user_rule_with_a_catastrophic_pattern_does_not_stall_a_check(tmp_path: Path) -> None:
    rule = '[[rules]]\nid = "studio.title"\nmessage = "m"\ntest = { field = "title", matches = "^(a+)+$" }\n'
    policy = write(tmp_path, rule)
    record = load_record(EXAMPLE_RECORD, ["title=" + "a" * 40 + "!"])
    shot = stamp(IMAGE, record, output_dir=tmp_path / "out").destination
    command = [str(AIDISCLOSE), "check", str(shot), "--policy", str(policy), "-f", "json"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)  # a backtracking engine: hours
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["files"][0]["results"][0]["outcome"] == "fail"


@pytest.mark.parametrize("pattern", ["(a)\\\\1", "^(?=SHOT)", "(?<!x)y"])
def test_a_pattern_the_linear_engine_cannot_run_is_refused_at_load(tmp_path: Path, pattern: str) -> None:
    rule = f'[[rules]]\nid = "studio.title"\nmessage = "m"\ntest = {{ field = "title", matches = "{pattern}" }}\n'
    line = refused(write(tmp_path, rule))
    assert "rule 'studio.title'" in line and "no backreferences or look-around" in line and "(line 4)" in line


# -- malformed policies, records and trust anchors: one line each ------------------------------------------

NESTED_NOT = "{ not = " * 3000 + '{ field = "title", exists = true }' + " }" * 3000
DOTTED_NOT = "test." + "not." * 3000 + 'field = "title"'


@pytest.mark.parametrize(
    ("text", "words", "line"),
    [
        ('[policy]\nextends = 1\n', ["extends", "text"], 2),
        ('[policy]\nname = 1\n', ["name", "text"], 2),
        ('policy = 1\n', ["policy", "table"], 1),
        ('rules = 1\n', ["rules", "[[rules]]"], 1),
        ('levels = 1\n', ["levels", "table"], 1),
        ('[[rules]]\nid = "a"\nmessage = 1\ntest = { field = "title", exists = true }\n', ["rule 'a'", "message"], 3),
        ('[[rules]]\nid = "a"\nmessage = "m"\nlevel = ["x"]\ntest = { field = "title", exists = true }\n',
         ["rule 'a'", "level"], 4),
        (f'[[rules]]\nid = "a"\nmessage = "m"\ntest = {NESTED_NOT}\n', ["test", "deeper than 32"], 4),
        (f'[[rules]]\nid = "a"\nmessage = "m"\n{DOTTED_NOT}\n', ["rules.0.test", "deeper than 32"], 4),
    ],
    ids=["extends", "name", "policy", "rules", "levels", "message", "level", "nested-not", "dotted-not"],
)  # fmt: skip
def test_a_malformed_policy_is_one_line_naming_the_key_and_line(
    tmp_path: Path, text: str, words: list[str], line: int
) -> None:
    message = refused(write(tmp_path, text))
    assert f"(line {line})" in message
    for word in words:
        assert word in message


def test_a_long_extends_chain_is_one_line(tmp_path: Path) -> None:
    for index in range(600):
        parent = f"p{index + 1}.toml" if index < 599 else "genai-production"
        write(tmp_path, f'[policy]\nextends = "{parent}"\n', f"p{index}.toml")
    result = run_cli("check", IMAGE, "--policy", tmp_path / "p0.toml")
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert "extends a chain of more than" in line and "(line 2)" in line and "p15.toml" in line


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        ("record.toml", f'title = "x"\nai_credit_line = {DEEP}\n', "ai_credit_line (line 2)"),
        ("record.json", f'{{"title": "x",\n "rights_holders": {DEEP}}}', "rights_holders (line 2)"),
        ("record.toml", 'title = "x"\n' + "qc." * 5_000 + "by = 1\n", "qc (line 2)"),
    ],
    ids=["toml-list", "json-list", "toml-dotted"],
)  # fmt: skip
def test_a_deeply_nested_record_is_one_line_naming_the_key_and_line(
    tmp_path: Path, name: str, text: str, where: str
) -> None:
    record = write(tmp_path, text, name)
    with pytest.raises(DisclosureError) as err:
        load_record(record)
    assert f"{record}: {where} nests lists or tables deeper than 32 levels" in err.value.one_line()
    result = run_cli("stamp", IMAGE, "--record", record, "--output", tmp_path / "out")
    assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1 and where in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("kind", ["der", "text"])
def test_trust_anchors_that_are_not_pem_are_one_line_not_a_bug(tmp_path: Path, kind: str) -> None:
    ca = make_test_ca(tmp_path / "keys")["ca"]
    anchors = tmp_path / f"anchors.{kind}"
    if kind == "der":
        anchors.write_bytes(x509.load_pem_x509_certificate(ca.read_bytes()).public_bytes(Encoding.DER))
    else:
        anchors.write_text("not a certificate\n")
    for command in ("check", "inspect"):
        result = run_cli(command, IMAGE, "--trust", anchors)
        assert result.exit_code == 2
        (line,) = result.stderr.splitlines()
        assert str(anchors) in line and "bug" not in line
        assert ("DER certificate" if kind == "der" else "no PEM certificate") in line
    assert run_cli("inspect", IMAGE, "--trust", ca).exit_code == 0  # PEM anchors are read as before


@pytest.mark.parametrize(
    ("test", "suggestion"),
    [
        ('{ field = "asset_idd", exists = true }', "did you mean 'asset_id'?"),
        ('{ field = "likeness", all = { field = "consent.statu", equals = "granted" } }',
         "did you mean 'consent.status'?"),
        ('{ field = "generated_at", before = "@human_review.dat" }', "did you mean '@human_review.date'?"),
        ('{ field = "c2pa.stat", equals = "valid" }', "did you mean 'c2pa.state'?"),
    ],
    ids=["top", "list-item", "other-field", "c2pa"],
)  # fmt: skip
def test_a_rule_naming_a_field_the_record_does_not_have_is_refused_at_load(
    tmp_path: Path, test: str, suggestion: str
) -> None:
    line = refused(write(tmp_path, f'[[rules]]\nid = "studio.x"\nmessage = "m"\ntest = {test}\n'))
    assert "rule 'studio.x': test: the record has no field" in line and suggestion in line and "(line 4)" in line
    free_form = '{ field = "provenance.sources.title", exists = true }'  # any key of a free-form table is read
    assert load_policy(write(tmp_path, f'[[rules]]\nid = "studio.x"\nmessage = "m"\ntest = {free_form}\n')).rules


@pytest.mark.parametrize("quoted", [True, False], ids=["as-written", "unquoted-dotted-ids"])
def test_the_policy_init_template_loads_with_its_levels_uncommented(tmp_path: Path, quoted: bool) -> None:
    path = tmp_path / "studio.toml"
    assert run_cli("policy", "init", "genai-production", path).exit_code == 0
    lines, in_levels = [], False
    for raw in path.read_text().splitlines():
        in_levels = raw == "[levels]" or (in_levels and raw.startswith("# "))
        if in_levels and raw.startswith("# "):
            raw = raw.removeprefix("# ")
            raw = raw if quoted else raw.replace('"', "", 1).replace('"', "", 1)
            if "attribution.training-mining" in raw:
                raw = raw.replace('"warning"', '"off"')
        lines.append(raw)
    path.write_text("\n".join(lines) + "\n")
    rules = {r.id: r.level.value for r in load_policy(path).rules}
    assert "attribution.training-mining" not in rules
    assert rules["attribution.ai-used-declared"] == "error" and rules["attribution.credit-line"] == "warning"


# -- watch reports -----------------------------------------------------------------------------------------


def test_watch_with_a_report_target_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "incoming").mkdir()
    taken = write(tmp_path, "not a folder", "reports")
    for target in (taken, taken / "inside"):
        done = subprocess.run(
            [str(AIDISCLOSE), "watch", str(tmp_path / "incoming"), "--report", str(target)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 2
        (line,) = done.stderr.splitlines()
        assert line.startswith(f"aidisclose: error: {target}") and "Traceback" not in done.stderr
    assert taken.read_text() == "not a folder"


class Watcher:
    """``aidisclose watch`` running in a child process, stopped with SIGTERM as a service manager does."""

    def __init__(self, folder: Path, reports: Path) -> None:
        command = [str(AIDISCLOSE), "watch", str(folder), "--report", str(reports), "--settle", "0.3"]
        self.child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.child.stderr is not None
        self.started = self.child.stderr.readline()  # printed once the observer runs, however loaded the machine

    def stop(self) -> tuple[str, str]:
        self.child.send_signal(signal.SIGTERM)
        out, err = self.child.communicate(timeout=30)
        return out, self.started + err


def wait_for(condition: Callable[[], object], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not condition():
        time.sleep(0.1)


def test_two_arrivals_of_one_name_each_keep_their_report(tmp_path: Path) -> None:
    incoming, reports = tmp_path / "incoming", tmp_path / "reports"
    for reel in ("reel1", "reel2"):
        (incoming / reel).mkdir(parents=True)
    watcher = Watcher(incoming, reports)
    try:
        for reel in ("reel1", "reel2"):
            shutil.copyfile(IMAGE, incoming / reel / "shot010.png")
        wait_for(lambda: len(list(reports.glob("*.json"))) >= 2 or watcher.child.poll() is not None)
        time.sleep(0.5)
    finally:
        out, err = watcher.stop()
    written = sorted(reports.glob("shot010.png.*.json"))
    checked = sorted(json.loads(p.read_text())["files"][0]["path"] for p in written)
    assert checked == [str(incoming / "reel1" / "shot010.png"), str(incoming / "reel2" / "shot010.png")], err
    assert out.count("FAIL") == 2 and watcher.child.returncode == 0


def test_a_report_folder_removed_while_watching_is_one_line_and_watching_goes_on(tmp_path: Path) -> None:
    incoming, reports = tmp_path / "incoming", tmp_path / "reports"
    incoming.mkdir()
    watcher = Watcher(incoming, reports)
    try:
        os.rmdir(reports)
        shutil.copyfile(IMAGE, incoming / "shot010.png")
        wait_for(lambda: watcher.child.poll() is not None, seconds=4)  # a watcher that dies does so here
        reports.mkdir()
        shutil.copyfile(IMAGE, incoming / "shot020.png")
        wait_for(lambda: list(reports.glob("shot020.png.*.json")) or watcher.child.poll() is not None)
    finally:
        out, err = watcher.stop()
    assert "Traceback" not in err and watcher.child.returncode == 0, err
    (problem,) = [line for line in err.splitlines() if line.startswith("aidisclose: error:")]
    assert str(reports / "shot010.png.") in problem and "cannot write the report" in problem
    assert list(reports.glob("shot020.png.*.json")) and out.count("FAIL") == 2
