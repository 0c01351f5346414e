"""Policy files: extends and level overrides, and errors that name the rule and the line."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from aidisclose import DisclosureError
from aidisclose.policy import Level, load_policy, run_policy

from .conftest import run_cli


def write(tmp_path: Path, text: str, name: str = "policy.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "words", "line"),
    [
        ('[[rules]]\nid = "a"\nmessage = "m"\ntest = { field = "qc", equal = 1 }\n', ["rule 'a'", "equal"], 4),
        ('[[rules]]\nid = "a"\nmessage = "m"\nlevel = "fatal"\ntest = { field = "qc", exists = true }\n', ["fatal"], 4),
        ('[[rules]]\nid = "a"\nmessage = "m"\ntest = { field = "qc", matches = "(" }\n', ["rule 'a'", "regular"], 4),
        ('[[rules]]\nid = "a"\nmessage = "m"\ntest = { field = "qc", exists = true }\n\n'
         '[[rules]]\nid = "a"\nmessage = "m"\ntest = { field = "qc", exists = true }\n', ["defined twice"], 6),
        ('[[rules]]\nid = "a"\nmessage = "m"\ncolour = "red"\ntest = { field = "qc", exists = true }\n', ["colour"], 4),
        ('[[rules]]\nid = "a"\ntest = { field = "qc", exists = true }\n', ["rule 'a'", "no message"], 1),
        ('[levels]\n"nope" = "off"\n', ["nope"], 2),
    ],
)  # fmt: skip
def test_bad_policy_names_rule_and_line(tmp_path: Path, text: str, words: list[str], line: int) -> None:
    path = write(tmp_path, text)
    with pytest.raises(DisclosureError) as err:
        load_policy(path)
    message = err.value.one_line()
    assert str(path) in message and f"(line {line})" in message
    for word in words:
        assert word in message


def test_extends_and_overrides_levels(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[policy]\nname = "studio"\nextends = "genai-production"\n\n[levels]\n'
        '"attribution.training-mining" = "error"\n"transparency.prompts-personal-data" = "off"\n\n'
        '[[rules]]\nid = "studio.asset-id"\nmessage = "asset id"\ntest = { field = "asset_id", matches = "^SHOT" }\n',
    )
    policy = load_policy(path)
    rules = {r.id: r for r in policy.rules}
    assert rules["attribution.training-mining"].level is Level.error
    assert "transparency.prompts-personal-data" not in rules
    assert "studio.asset-id" in rules and "oversight.final-review-approved" in rules
    assert policy.sources == ("builtin:genai-production", str(path))
    assert policy.sha256 != load_policy("genai-production").sha256


def test_a_policy_sent_to_a_worker_process_judges_as_the_original(tmp_path: Path) -> None:
    # Rules are compiled when made; a worker receives them pickled and must compile the same tests.
    path = write(
        tmp_path,
        '[policy]\nextends = "genai-production"\n\n[[rules]]\nid = "studio.asset-id"\n'
        'message = "asset id"\ntest = { field = "asset_id", matches = "^SHOT" }\n',
    )
    policy = load_policy(path)
    copy = pickle.loads(pickle.dumps(policy))
    assert copy == policy
    for subject in ({"asset_id": "SHOT010", "ai_used": True}, {"asset_id": "take2", "ai_used": False}, {}):
        assert run_policy(copy, subject, {}) == run_policy(policy, subject, {})
    outcomes = {r.rule: r.outcome.value for r in run_policy(copy, {"asset_id": "take2"}, {})}
    assert outcomes["studio.asset-id"] == "fail" and outcomes["attribution.ai-used-declared"] == "fail"


def test_extends_cycle_is_refused(tmp_path: Path) -> None:
    write(tmp_path, '[policy]\nextends = "b.toml"\n', "a.toml")
    write(tmp_path, '[policy]\nextends = "a.toml"\n', "b.toml")
    with pytest.raises(DisclosureError, match="cycle"):
        load_policy(tmp_path / "a.toml")


def test_unknown_builtin_lists_the_builtins() -> None:
    with pytest.raises(DisclosureError, match="genai-production"):
        load_policy("no-such-policy")


def test_policy_commands(tmp_path: Path) -> None:
    listing = run_cli("policy", "list").stdout
    for name in ("genai-production", "eu-ai-act-art50", "ca-sb942", "c2pa-strict"):
        assert name in listing
    shown = run_cli("policy", "show", "ca-sb942")
    assert shown.exit_code == 0 and "sb942.unique-id" in shown.stdout
    target = tmp_path / "mine.toml"
    assert run_cli("policy", "init", "genai-production", target).exit_code == 0
    policy = load_policy(target)  # the written template loads and extends the built-in
    assert policy.name == "my-genai-production" and len(policy.rules) == len(load_policy("genai-production").rules)
    assert run_cli("policy", "init", "genai-production", target).exit_code == 2  # no silent overwrite
    assert run_cli("policy", "show", "nope").exit_code == 2
