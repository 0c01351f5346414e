"""The policy engine: rules as data (TOML), evaluated against a rebuilt record and its provenance.

A policy's ``[policy]`` table gives its ``name``, ``description``, the policy it ``extends`` and
``references``: the laws and guidance its rules check, which ``policy show`` prints and JSON reports carry.

A rule is ``id``, ``level`` (error, warning, info, or off), ``message``, an
optional ``when``, an optional ``requires`` and a ``test``. Conditions and
tests are expressions, each a small table (MediaConch's model; yamllint's levels):

- ``{field = "a.b", exists = true}``, ``equals = V`` (or ``"@other.field"``), ``one_of = [..]``,
  ``matches = "regex"``, ``not_matches = "regex"`` (RE2 syntax), ``count_gte = N`` (a list's length),
  ``at_least = N`` (a number: a missing or non-numeric value fails);
- dates: ``before``, ``after``, ``on_or_before``, ``on_or_after`` = an ISO date
  or ``"@other.field"``;
- lists: ``{field = "likeness", all = EXPR}`` / ``any = EXPR``, where EXPR's
  fields are read from each item (``@`` paths still read from the whole record);
- groups: ``{and = [..]}``, ``{or = [..]}``, ``{not = EXPR}``.

``requires`` names earlier rules (an id or a list of ids) that must pass
first: what a rule needs to know before it can say anything. While one of them
fails, the rule is not checked (n/a), so a file missing one thing (a
manifest, a declaration of AI use) fails once, for that cause, not once per
rule that depends on it.

Policies are hostile input too. Patterns are RE2's, matched in time linear in
the text; a field must be one the record (or ``provenance``, ``c2pa``) has;
expressions and ``extends`` chains are bounded; every mistake is one line
naming the file, the rule or key, and the line.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
import operator
import tomllib
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

import re2
from pydantic import BaseModel

from ..errors import DisclosureError
from ..inputs import read_input_text
from ..record import DisclosureRecord, field_type
from ..tomllines import MAX_NESTING, key_above, key_name, line_for, toml_key_lines, too_deep

_MISSING: Any = object()
_COMPARISONS = ("exists", "equals", "one_of", "matches", "not_matches", "count_gte", "at_least")
_DATES = ("before", "after", "on_or_before", "on_or_after")
_LISTS = ("all", "any")
_LEAF_TESTS = (*_COMPARISONS, *_DATES)
_GROUPS = ("and", "or", "not")
_RULE_KEYS = {"id", "level", "message", "when", "requires", "test", "pillar", "description"}
_TEXT_KEYS = ("id", "message", "pillar", "description")
_POLICY_KEYS = {"name", "description", "extends", "references"}
_MAX_EXTENDS = 16  # policies in one ``extends`` chain; a studio's needs two or three
#: A policy's ``references`` (the laws and guidance it checks): how many, how long each may be.
_MAX_REFERENCES, _MAX_REFERENCE_CHARS = 32, 400

#: What rules read besides the record's fields (see ``check.policy_subject``): ``None`` is any key.
_FACTS: dict[str, Any] = {
    "c2pa": {
        "state": {},
        "codes": {},
        "digital_source_type": {},
        "ingredients_invalid": {},
        # what signed, time-stamped and kept upstream provenance needs (EU Code of Practice 1.1.1, 1.2)
        "timestamp": {},
        "created_source_type": {},
        "claim_version": {},
        "ingredient_count": {},
        "ingredient_manifest_count": {},
        "has_parent": {},
        "parent_has_manifest": {},
        "sidecar": {},  # the manifest store's sidecar file, when it is not embedded
    },
    # what aidisclose cannot read from a file at all, each with the reason; a rule on one never passes
    "not_checked": {"watermark": {}, "explicit_label": {}},
    "provenance": {
        "carriers": {},
        "stamped_by_aidisclose": {},
        "sources": None,
        "conflict_count": {},
        "problem_count": {},
        "sidecar": {},
        "iptc_digital_source_type": {},  # the IPTC DigitalSourceType property in XMP, what platforms read
        # GB 45438-2025's implicit label (``chinalabel``): its keys as text, empty ones left out, and the
        # carrier it was read from (explicit, visible or audible, labels: ``not_checked.explicit_label``).
        "china_label": {
            "present": {},
            "label": {},
            "content_producer": {},
            "produce_id": {},
            "content_propagator": {},
            "propagate_id": {},
            "source": {},
            "agree": {},  # every carrier's label (and every second label in one) says the same
        },
    },
}


class Level(StrEnum):
    error = "error"
    warning = "warning"
    info = "info"
    off = "off"


class Outcome(StrEnum):
    passed = "pass"
    failed = "fail"
    warned = "warn"
    not_applicable = "n/a"


class Evaluation(NamedTuple):
    ok: bool
    expected: str
    actual: Any
    field: str | None


@dataclass
class Context:
    root: dict[str, Any]


#: A compiled expression: evaluate it against ``data`` (the record, or one list item).
Check = Callable[[Any, Context], Evaluation]
Resolve = Callable[[Any, Context], Any]


# -- expressions -------------------------------------------------------------------
# An expression is compiled once, when its rule is made, into nested functions: a delivery check
# evaluates every rule on every file, so parsing paths, joining expected-value texts and compiling
# regular expressions happen once per policy rather than once per file.


def _resolver(path: str) -> Resolve:
    """A function reading ``path`` (``a.b``, or ``@a.b`` from the whole record) from data."""
    from_root = path.startswith("@")
    parts = tuple(path.removeprefix("@").split("."))

    def resolve(data: Any, ctx: Context) -> Any:
        if from_root:
            data = ctx.root
        for part in parts:
            if isinstance(data, dict) and part in data:
                data = data[part]
            else:
                return _MISSING
        return data

    return resolve


def _as_datetime(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _is_day(value: str) -> bool:
    """A calendar day alone (``2026-09-01``, ``20260901``), without a time."""
    return not any(sep in value.strip() for sep in "Tt ")


def _comparable(left: str, right: str) -> tuple[Any, Any] | None:
    """``left`` and ``right`` as values one can compare, or None.

    Two moments compare as moments. A day (an approval's, a consent's) compared with a moment compares
    with the moment's own calendar day, in the offset it was written with: an approval dated 2 September
    is after a generation at 20:00 on 1 September in California (04:00 UTC on the 2nd), never before it.
    """
    first, second = _as_datetime(left), _as_datetime(right)
    if first is None or second is None:
        return None
    if _is_day(left) or _is_day(right):
        return first.date(), second.date()
    return first, second


def _show(value: Any) -> Any:
    return "missing" if value is _MISSING else value


def _wanted(target: Any) -> str:
    """A rule's expected value as a reviewer reads it: ``'trusted'``, ``true``, ``0``."""
    return json.dumps(target) if isinstance(target, bool) or target is None else repr(target)


def compile_expression(expr: dict[str, Any]) -> Check:
    """``expr`` (checked by :func:`check_expression`) as a function of (data, context)."""
    if "and" in expr or "or" in expr:
        kind = "and" if "and" in expr else "or"
        return _compile_group(kind, [compile_expression(part) for part in expr[kind]])
    if "not" in expr:
        return _compile_not(compile_expression(expr["not"]))
    path = expr["field"]
    for op in _LISTS:
        if op in expr:
            return _compile_list(op, path, compile_expression(expr[op]))
    op = next(k for k in _LEAF_TESTS if k in expr)
    return _compile_leaf(op, expr[op], path)


def _compile_not(inner: Check) -> Check:
    def negate(data: Any, ctx: Context) -> Evaluation:
        found = inner(data, ctx)
        inner_text = found.expected
        grouped = f"({inner_text})" if " and " in inner_text or " or " in inner_text else inner_text
        return Evaluation(not found.ok, f"not {grouped}", found.actual, found.field)

    return negate


def _compile_leaf(op: str, target: Any, path: str) -> Check:
    resolve = _resolver(path)
    if op == "exists":
        wanted, expected = bool(target), "a value" if target else "no value"

        def exists(data: Any, ctx: Context) -> Evaluation:
            value = resolve(data, ctx)
            return Evaluation((value is not _MISSING) == wanted, expected, _show(value), path)

        return exists
    if op == "equals" and isinstance(target, str) and target.startswith("@"):
        other_of, other_name = _resolver(target), target[1:]

        def equals_field(data: Any, ctx: Context) -> Evaluation:
            value = resolve(data, ctx)
            other = other_of(ctx.root, ctx)
            return Evaluation(value == other, f"the same as {other_name} ({_show(other)})", _show(value), path)

        return equals_field
    if op == "equals":
        expected = _wanted(target)

        def equals(data: Any, ctx: Context) -> Evaluation:
            value = resolve(data, ctx)
            return Evaluation(value == target, expected, _show(value), path)

        return equals
    if op == "one_of":
        expected = f"one of {', '.join(map(str, target))}"

        def one_of(data: Any, ctx: Context) -> Evaluation:
            value = resolve(data, ctx)
            return Evaluation(value in target, expected, _show(value), path)

        return one_of
    if op in ("matches", "not_matches"):
        pattern, wanted = compile_regex(target), op == "matches"
        expected = f"{'matching' if wanted else 'not matching'} /{target}/"

        def match(data: Any, ctx: Context) -> Evaluation:
            value = resolve(data, ctx)
            found = isinstance(value, str) and pattern.search(value) is not None
            return Evaluation(found == wanted, expected, _show(value), path)

        return match
    if op == "count_gte":
        expected = f"at least {target}"

        def count(data: Any, ctx: Context) -> Evaluation:
            value = resolve(data, ctx)
            found = len(value) if isinstance(value, list) else 0
            return Evaluation(found >= target, expected, found, path)

        return count
    if op == "at_least":
        expected = f"a number of at least {target}"

        def at_least(data: Any, ctx: Context) -> Evaluation:
            value = resolve(data, ctx)
            number = isinstance(value, int | float) and not isinstance(value, bool)
            return Evaluation(number and value >= target, expected, _show(value), path)

        return at_least
    return _compile_dates(op, target, path, resolve)


def _compile_group(kind: str, parts: list[Check]) -> Check:
    joiner = " and " if kind == "and" else " or "

    # 'and' blames its first failing part; 'or' its last, which by the usual idiom
    # ("exempt, or else meets the requirement") is the requirement. With none failing, its first or last part.
    def group_and(data: Any, ctx: Context) -> Evaluation:
        results = [part(data, ctx) for part in parts]
        blame = next((r for r in results if not r.ok), None)
        if blame is None:
            return Evaluation(True, joiner.join([r.expected for r in results]), results[0].actual, results[0].field)
        return Evaluation(False, joiner.join([r.expected for r in results]), blame.actual, blame.field)

    def group_or(data: Any, ctx: Context) -> Evaluation:
        results = [part(data, ctx) for part in parts]
        ok = any([r.ok for r in results])
        blame = next((r for r in reversed(results) if not r.ok), results[-1])
        return Evaluation(ok, joiner.join([r.expected for r in results]), blame.actual, blame.field)

    return group_and if kind == "and" else group_or


def _compile_list(op: str, path: str, inner: Check) -> Check:
    resolve = _resolver(path)

    def inner_expected(ctx: Context) -> str:
        return inner({}, ctx).expected

    def every(data: Any, ctx: Context) -> Evaluation:
        value = resolve(data, ctx)
        items = value if isinstance(value, list) else []
        results = [inner(item, ctx) for item in items]
        for index, result in enumerate(results):
            if not result.ok:
                return Evaluation(
                    False, f"every {path}: {result.expected}", result.actual, f"{path}.{index}.{result.field}"
                )
        return Evaluation(True, f"every {path}: {inner_expected(ctx)}", f"{len(items)} item(s)", path)

    def some(data: Any, ctx: Context) -> Evaluation:
        value = resolve(data, ctx)
        items = value if isinstance(value, list) else []
        hit = any([inner(item, ctx).ok for item in items])  # every item is evaluated, as 'every' does
        actual = f"{len(items)} item(s), none matching" if not hit else f"{len(items)} item(s)"
        return Evaluation(hit, f"some {path}: {inner_expected(ctx)}", actual, path)

    return every if op == "all" else some


_DATE_TESTS: dict[str, Callable[[Any, Any], bool]] = {
    "before": operator.lt,
    "after": operator.gt,
    "on_or_before": operator.le,
    "on_or_after": operator.ge,
}


def _compile_dates(op: str, target: Any, path: str, resolve: Resolve) -> Check:
    test = _DATE_TESTS[op]
    from_field = isinstance(target, str) and target.startswith("@")
    other_of = _resolver(target[1:]) if from_field else None
    label = f"{op.replace('_', ' ')} {target[1:] if from_field else target}"

    def compare_dates(data: Any, ctx: Context) -> Evaluation:
        value = resolve(data, ctx)
        other = other_of(ctx.root, ctx) if other_of else target
        pair = _comparable(value, other) if isinstance(value, str) and isinstance(other, str) else None
        if pair is None:
            return Evaluation(False, f"{label} ({_show(other)})", _show(value), path)
        return Evaluation(test(*pair), f"{label} ({other})", value, path)

    return compare_dates


def fields_read(expr: dict[str, Any], in_list: bool = False) -> list[str]:
    """The top-level fields ``expr`` (a checked expression) reads; within a list's items only ``@`` paths count."""
    if "and" in expr or "or" in expr:
        return [f for part in expr["and" if "and" in expr else "or"] for f in fields_read(part, in_list)]
    if "not" in expr:
        return fields_read(expr["not"], in_list)
    own = expr["field"]
    others = [v for k, v in expr.items() if k != "field" and isinstance(v, str) and v.startswith("@")]
    paths = [*([own] if own.startswith("@") or not in_list else []), *others]
    found = [path.removeprefix("@").split(".", 1)[0] for path in paths]
    inner = next((expr[op] for op in _LISTS if op in expr), None)
    return found + (fields_read(inner, in_list=True) if isinstance(inner, dict) else [])


def compile_regex(pattern: str) -> Any:
    """``pattern`` compiled by RE2, which matches in time linear in the text: no file can stall a check.

    RE2 has no backreferences or look-around; a pattern using them raises ValueError saying so.
    """
    options = re2.Options()
    options.log_errors = False
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise ValueError(
            f"{reason} (patterns are RE2 syntax, matched in linear time: no backreferences or look-around)"
        ) from None


# -- policies ------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    id: str
    level: Level
    message: str
    test: dict[str, Any]
    when: dict[str, Any] | None = None
    pillar: str | None = None
    requires: tuple[str, ...] = ()  # ids of earlier rules that must pass before this one is checked
    check_test: Check = field(init=False, repr=False, compare=False)
    check_when: Check | None = field(init=False, repr=False, compare=False)
    #: The record's top-level fields the rule's condition and test read, in the order they first appear.
    reads: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "check_test", compile_expression(self.test))
        object.__setattr__(self, "check_when", compile_expression(self.when) if self.when is not None else None)
        read = fields_read(self.when) if self.when is not None else []
        object.__setattr__(self, "reads", tuple(dict.fromkeys([*read, *fields_read(self.test)])))

    def __reduce__(self) -> tuple[Any, ...]:
        # Functions do not pickle: a rule sent to a worker process travels as its data and is compiled there.
        return (Rule, (self.id, self.level, self.message, self.test, self.when, self.pillar, self.requires))


@dataclass(frozen=True)
class Policy:
    name: str
    description: str
    rules: tuple[Rule, ...]
    sha256: str
    sources: tuple[str, ...] = field(default=())
    #: The laws and guidance the policy checks (its own first, then those of the policies it extends).
    references: tuple[str, ...] = field(default=())


class RuleResult(NamedTuple):
    policy: str
    rule: str
    level: Level
    outcome: Outcome
    message: str
    expected: str
    actual: Any
    field: str | None
    carrier: str | None
    pillar: str | None = None  # the guidance pillar the rule belongs to (consent, attribution, ...)


BUILTIN_DIR = "profiles"


def builtin_names() -> list[str]:
    folder = resources.files(__package__).joinpath(BUILTIN_DIR)
    return sorted(p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml"))


def builtin_text(name: str) -> str:
    if name not in builtin_names():
        raise DisclosureError(
            name, "is not a built-in policy or a file", f"built-in policies: {', '.join(builtin_names())}"
        )
    return resources.files(__package__).joinpath(BUILTIN_DIR, f"{name}.toml").read_text(encoding="utf-8")


def load_policy(name_or_path: str | Path, _seen: tuple[str, ...] = ()) -> Policy:
    """A built-in policy by name, or a policy TOML file (which may ``extends`` another).

    A built-in name (a ``str``) always means the built-in policy, whatever the current folder holds:
    a delivery cannot swap the policy it is checked against by carrying a file of that name. Anything
    else is a file's path (``./genai-production`` for a file of that name).
    """
    if isinstance(name_or_path, str) and name_or_path in builtin_names():
        text, source, base_dir = builtin_text(name_or_path), f"builtin:{name_or_path}", None
    else:
        path = Path(name_or_path)
        try:
            text = read_input_text(path, "a policy")
        except FileNotFoundError:
            raise DisclosureError(
                path, "is not a built-in policy or a file", f"built-in policies: {', '.join(builtin_names())}"
            ) from None
        except OSError as exc:
            raise DisclosureError(path, f"cannot read the policy: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise DisclosureError(path, "is not a policy: not UTF-8 text", "a policy is a TOML file") from None
        source, base_dir = str(path), path.parent
    if source in _seen:
        raise DisclosureError(source, "extends itself (a cycle through " + " -> ".join(_seen) + ")")
    return parse_policy(text, source, base_dir=base_dir, seen=_seen)


def parse_policy(text: str, source: str, base_dir: Path | None = None, seen: tuple[str, ...] = ()) -> Policy:
    """A policy from its TOML ``text``; ``base_dir`` is where a parent file it ``extends`` is looked for."""
    lines: dict[tuple[str | int, ...], int] = {}

    def fail(where: tuple[str | int, ...], reason: str) -> DisclosureError:
        line = line_for(where, lines)
        return DisclosureError(source, f"{reason}{f' (line {line})' if line else ''}")

    deep = too_deep(text)
    if deep is not None:
        lines.update(toml_key_lines(text))
        above = key_above(lines, deep)
        key = f"{key_name(above)} " if above else ""
        raise DisclosureError(source, f"{key}nests tables or lists deeper than {MAX_NESTING} levels (line {deep})")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DisclosureError(source, f"not valid TOML: {exc}") from None
    lines.update(toml_key_lines(text))
    meta, rule_tables, level_table = _parts(data, fail)
    name = meta.get("name") or Path(source.removeprefix("builtin:")).stem
    base: Policy | None = None
    if "extends" in meta:
        if len(seen) + 1 >= _MAX_EXTENDS:
            raise fail(("policy", "extends"), f"extends a chain of more than {_MAX_EXTENDS} policies")
        base = load_policy(_parent(meta["extends"], base_dir, fail), (*seen, source))
    rules: dict[str, Rule] = {r.id: r for r in base.rules} if base else {}
    defined_here: set[str] = set()
    for index, raw in enumerate(rule_tables):
        rule = _parse_rule(raw, index, fail)
        if rule.id in defined_here:
            raise fail(("rules", index), f"rule {rule.id!r} is defined twice")
        defined_here.add(rule.id)
        rules[rule.id] = rule  # a rule of the extended policy with the same id is replaced
        order = list(rules)
        for needed in rule.requires:
            if needed not in rules or order.index(needed) >= order.index(rule.id):
                raise fail(("rules", index, "requires"), f"rule {rule.id!r} requires {needed!r}, not an earlier rule")
    for rule_id, level in _levels(level_table):
        where = ("levels", *rule_id.split("."))
        if rule_id not in rules:
            raise fail(where, f"[levels] names rule {rule_id!r}, which the policy does not have")
        if not isinstance(level, str) or level not in Level.__members__:
            raise fail(where, f"rule {rule_id!r}: level {level!r} is not error, warning, info or off")
        old = rules[rule_id]
        rules[rule_id] = Rule(old.id, Level(level), old.message, old.test, old.when, old.pillar, old.requires)
    digest = hashlib.sha256(((base.sha256 if base else "") + text).encode()).hexdigest()
    return Policy(
        name=name,
        description=meta.get("description", ""),
        rules=tuple(r for r in rules.values() if r.level is not Level.off),
        sha256=digest,
        sources=(*(base.sources if base else ()), source),
        references=tuple(dict.fromkeys((*_references(meta, fail), *(base.references if base else ())))),
    )


def _references(meta: dict[str, Any], fail: Any) -> list[str]:
    """``[policy] references``: a short list of short texts, each naming a law or guidance and where to read it."""
    found = meta.get("references", [])
    where = ("policy", "references")
    if not isinstance(found, list) or not all(isinstance(r, str) and r.strip() for r in found):
        raise fail(where, "[policy] references must be a list of texts, each naming a law or guidance (and its URL)")
    if len(found) > _MAX_REFERENCES:
        raise fail(where, f"[policy] references lists {len(found)} texts; at most {_MAX_REFERENCES}")
    long = next((n for n, r in enumerate(found, 1) if len(r) > _MAX_REFERENCE_CHARS), None)
    if long is not None:
        raise fail(where, f"[policy] references: text #{long} is longer than {_MAX_REFERENCE_CHARS} characters")
    return [r.strip() for r in found]


def _parts(data: dict[str, Any], fail: Any) -> tuple[dict[str, Any], list[Any], dict[str, Any]]:
    """The [policy] table, the [[rules]] and the [levels] table of a policy's data, each of the right type."""
    unknown = sorted(set(data) - {"policy", "rules", "levels"})
    if unknown:
        raise fail((unknown[0],), f"unknown table {unknown[0]!r}; expected [policy], [[rules]], [levels]")
    meta, rules, levels = data.get("policy", {}), data.get("rules", []), data.get("levels", {})
    if not isinstance(meta, dict):
        raise fail(("policy",), "'policy' must be a table: [policy] with name, description, extends")
    if not isinstance(rules, list):
        raise fail(("rules",), "'rules' must be a list of tables: write each rule under [[rules]]")
    if not isinstance(levels, dict):
        raise fail(("levels",), '\'levels\' must be a table: [levels] with lines like "rule.id" = "off"')
    extra = sorted(set(meta) - _POLICY_KEYS)
    if extra:
        raise fail(
            ("policy", extra[0]), f"[policy]: unknown key {extra[0]!r}; expected name, description, extends, references"
        )
    for key in sorted((_POLICY_KEYS - {"references"}) & set(meta)):
        if not isinstance(meta[key], str):
            raise fail(("policy", key), f"[policy] {key} must be text, not {meta[key]!r}")
    return meta, rules, levels


def _parent(parent: str, base_dir: Path | None, fail: Any) -> str | Path:
    """What ``extends = parent`` names: a built-in policy, else a file beside the extending one."""
    if parent in builtin_names():
        return parent
    if base_dir is None:  # a built-in policy extends only built-in ones
        raise fail(("policy", "extends"), f"extends {parent!r}, which is not a built-in policy")
    return base_dir / parent


def _levels(table: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, Any]]:
    """Each (rule id, level) of [levels]; an unquoted dotted id (``a.b = "off"``) reads as the id ``a.b``."""
    found: list[tuple[str, Any]] = []
    for key, value in table.items():
        if isinstance(value, dict) and len(prefix) < MAX_NESTING:
            found.extend(_levels(value, (*prefix, key)))
        else:
            found.append((".".join((*prefix, key)), value))
    return found


def _parse_rule(raw: Any, index: int, fail: Any) -> Rule:
    where: tuple[str | int, ...] = ("rules", index)
    if not isinstance(raw, dict):
        raise fail(where, f"rule #{index + 1} is not a table")
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not rule_id:
        raise fail((*where, "id") if "id" in raw else where, f"rule #{index + 1} has no id (text)")
    label = f"rule {rule_id!r}"
    extra = set(raw) - _RULE_KEYS
    if extra:
        raise fail((*where, sorted(extra)[0]), f"{label}: unknown key {sorted(extra)[0]!r}")
    for required in ("test", "message"):
        if required not in raw:
            raise fail(where, f"{label} has no {required}")
    for key in _TEXT_KEYS:
        if key in raw and not isinstance(raw[key], str):
            raise fail((*where, key), f"{label}: {key} must be text, not {raw[key]!r}")
    level = raw.get("level", "error")
    if not isinstance(level, str) or level not in Level.__members__:
        raise fail((*where, "level"), f"{label}: level {level!r} is not error, warning, info or off")
    requires = raw.get("requires", ())
    requires = (requires,) if isinstance(requires, str) else requires
    if not isinstance(requires, list | tuple) or not all(isinstance(r, str) and r for r in requires):
        raise fail((*where, "requires"), f"{label}: 'requires' takes a rule id or a list of rule ids")
    for part in ("when", "test"):
        if part in raw:
            problem = check_expression(raw[part])
            if problem:
                raise fail((*where, part), f"{label}: {part}: {problem}")
    return Rule(rule_id, Level(level), raw["message"], raw["test"], raw.get("when"), raw.get("pillar"), tuple(requires))


def check_expression(expr: Any, scope: tuple[str | int, ...] = (), depth: int = 0) -> str | None:
    """Why ``expr`` is not a valid expression, or None.

    ``scope`` is where its fields are read: the record (``()``), or each item of a list
    (``("likeness", 0)``). A field that is not there is a mistake: such a test would never look at
    anything.
    """
    if depth >= MAX_NESTING:
        return f"expressions nest deeper than {MAX_NESTING} levels"
    if not isinstance(expr, dict):
        return 'an expression must be a table like {field = "ai_used", equals = true}'
    groups = [k for k in _GROUPS if k in expr]
    if groups:
        if len(expr) != 1:
            return f"'{groups[0]}' must stand alone in its table"
        inner = expr[groups[0]]
        parts = [inner] if groups[0] == "not" else inner
        if groups[0] != "not" and (not isinstance(inner, list) or not inner):
            return f"'{groups[0]}' takes a non-empty list of expressions"
        return next((p for p in (check_expression(part, scope, depth + 1) for part in parts) if p), None)
    if not isinstance(expr.get("field"), str):
        return "missing 'field'"
    ops = [k for k in expr if k != "field"]
    known = (*_COMPARISONS, *_DATES, *_LISTS)
    if len(ops) != 1 or ops[0] not in known:
        return f"needs exactly one test of {', '.join(known)}; got {', '.join(ops) or 'none'}"
    op, target = ops[0], expr[ops[0]]
    other = target if op in ("equals", *_DATES) and isinstance(target, str) and target.startswith("@") else None
    problem = next((p for p in (_unknown_field(f, scope) for f in (expr["field"], other) if f) if p), None)
    if problem:
        return problem
    if op in _LISTS:
        return check_expression(target, (*_key_path(expr["field"], scope), 0), depth + 1)
    if op in ("matches", "not_matches"):
        if not isinstance(target, str):
            return f"'{op}' takes a regular expression (text)"
        try:
            compile_regex(target)
        except ValueError as exc:
            return f"bad regular expression {target!r}: {exc}"
    if op == "one_of" and not isinstance(target, list):
        return "'one_of' takes a list"
    if op == "count_gte" and not isinstance(target, int):
        return "'count_gte' takes a whole number"
    if op == "at_least" and (not isinstance(target, int | float) or isinstance(target, bool)):
        return "'at_least' takes a number"
    return None


def _key_path(path: str, scope: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """The place ``path`` reads from the whole subject: ``@a.b`` from its top, else below ``scope``."""
    parts = tuple(path.removeprefix("@").split("."))
    return parts if path.startswith("@") else (*scope, *parts)


def _unknown_field(path: str, scope: tuple[str | int, ...]) -> str | None:
    """Why the field ``path`` (read below ``scope``) is not one rules can read, or None."""
    here: tuple[str | int, ...] = ()
    for place, part in enumerate(_key_path(path, scope)):
        names = _names_under(here)
        if names is None:
            return None  # a free-form table (provenance.sources): any key
        if not isinstance(part, int) and part not in names:
            close = difflib.get_close_matches(part, names, n=1)
            if not close:
                return f"the record has no field {path!r}"
            parts = path.removeprefix("@").split(".")
            mine = place - (0 if path.startswith("@") else len(scope))
            fixed = ".".join([*parts[:mine], close[0], *parts[mine + 1 :]])
            return f"the record has no field {path!r} (did you mean {'@' * path.startswith('@') + fixed!r}?)"
        here = (*here, part)
    return None


def _names_under(prefix: tuple[str | int, ...]) -> list[str] | None:
    """The names rules may read below ``prefix`` (a list's items are at index 0); None for any name."""
    if not prefix:
        return [*DisclosureRecord.model_fields, *_FACTS]
    if prefix[0] in _FACTS:
        facts: dict[str, Any] | None = _FACTS
        for part in prefix:
            if facts is None:
                return None
            facts = facts.get(str(part), {})
        return None if facts is None else list(facts)
    kind = field_type(prefix)
    return list(kind.model_fields) if isinstance(kind, type) and issubclass(kind, BaseModel) else []


# -- running ------------------------------------------------------------------------


def run_policy(
    policy: Policy, subject: dict[str, Any], sources: dict[str, str], rejected: Collection[str] = ()
) -> list[RuleResult]:
    """Every rule's result for one file. ``subject`` is the record as JSON plus ``provenance``.

    ``rejected`` names the record's fields the file holds only values of that the record rejects (so the
    subject lacks them). A rule reading one cannot tell what the file says: it fails (or warns, at its level)
    rather than pass or be n/a on a field that only looks absent: a likeness whose consent was tampered into
    an invalid value must not make every consent rule n/a.
    """
    ctx = Context(subject)
    results = []
    unmet: set[str] = set()  # rules that did not pass, or were not checked because one they require did not
    unreadable = {name for name in rejected if name not in subject}
    for rule in policy.rules:
        blocked = [r for r in rule.requires if r in unmet] if rule.requires else []
        result = _run_rule(policy, rule, subject, ctx, sources, blocked)
        unread = next((name for name in rule.reads if name in unreadable), None) if unreadable else None
        if unread is not None and not blocked and result.outcome in (Outcome.passed, Outcome.not_applicable):
            outcome = Outcome.failed if rule.level is Level.error else Outcome.warned
            expected = f"a valid {unread}: the file holds one the record rejects, so this rule cannot be checked"
            result = _result(policy, rule, outcome, expected, "invalid", unread, sources)
        if blocked or result.outcome in (Outcome.failed, Outcome.warned):
            unmet.add(rule.id)
        results.append(result)
    return results


def _run_rule(
    policy: Policy,
    rule: Rule,
    subject: dict[str, Any],
    ctx: Context,
    sources: dict[str, str],
    blocked: list[str],
) -> RuleResult:
    if blocked:  # the cause is reported once, by the rule that did not pass
        expected = f"not checked: needs {', '.join(blocked)} to pass"
        return _result(policy, rule, Outcome.not_applicable, expected, "-", None, sources)
    if rule.check_when is not None and not rule.check_when(subject, ctx).ok:
        return _result(policy, rule, Outcome.not_applicable, "condition not met", "-", None, sources)
    found = rule.check_test(subject, ctx)
    outcome = Outcome.passed
    if not found.ok:
        outcome = Outcome.failed if rule.level is Level.error else Outcome.warned
    return _result(policy, rule, outcome, found.expected, found.actual, found.field, sources)


def _result(
    policy: Policy,
    rule: Rule,
    outcome: Outcome,
    expected: str,
    actual: Any,
    field_path: str | None,
    sources: dict[str, str],
) -> RuleResult:
    top = field_path.split(".", 1)[0] if field_path else None
    return RuleResult(
        policy=policy.name,
        rule=rule.id,
        level=rule.level,
        outcome=outcome,
        message=rule.message,
        expected=expected,
        actual=actual,
        field=field_path,
        carrier=sources.get(top) if top else None,
        pillar=rule.pillar,
    )
