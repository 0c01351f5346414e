"""The policy engine: rules as data (TOML), evaluated against a rebuilt record and its provenance.

A rule is ``id``, ``level`` (error, warning, info, or off), ``message``, an
optional ``when``, an optional ``requires`` and a ``test``. Conditions and
tests are expressions, each a small table (MediaConch's model; yamllint's levels):

- ``{field = "a.b", exists = true}``, ``equals = V`` (or ``"@other.field"``), ``one_of = [..]``,
  ``matches = "regex"``, ``not_matches = "regex"``, ``count_gte = N``;
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
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import operator
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

from ..errors import DisclosureError
from ..tomllines import line_for, toml_key_lines

_MISSING: Any = object()
_COMPARISONS = ("exists", "equals", "one_of", "matches", "not_matches", "count_gte")
_DATES = ("before", "after", "on_or_before", "on_or_after")
_LISTS = ("all", "any")
_LEAF_TESTS = (*_COMPARISONS, *_DATES)
_GROUPS = ("and", "or", "not")
_RULE_KEYS = {"id", "level", "message", "when", "requires", "test", "pillar", "description"}


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
        pattern, wanted = re.compile(target), op == "matches"
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
    return _compile_dates(op, target, path, resolve)


def _compile_group(kind: str, parts: list[Check]) -> Check:
    joiner = " and " if kind == "and" else " or "
    combine = all if kind == "and" else any

    def group(data: Any, ctx: Context) -> Evaluation:
        results = [part(data, ctx) for part in parts]
        ok = combine(r.ok for r in results)
        # 'and' blames its first failing part; 'or' its last, which by the usual idiom
        # ("exempt, or else meets the requirement") is the requirement.
        failing = [r for r in results if not r.ok] or results
        blame = failing[0] if kind == "and" else failing[-1]
        return Evaluation(ok, joiner.join(r.expected for r in results), blame.actual, blame.field)

    return group


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


_DATE_TESTS: dict[str, Callable[[dt.datetime, dt.datetime], bool]] = {
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
        left, right = _as_datetime(value), _as_datetime(other if isinstance(other, str) else None)
        if left is None or right is None:
            return Evaluation(False, f"{label} ({_show(other)})", _show(value), path)
        return Evaluation(test(left, right), f"{label} ({other})", value, path)

    return compare_dates


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

    def __post_init__(self) -> None:
        object.__setattr__(self, "check_test", compile_expression(self.test))
        object.__setattr__(self, "check_when", compile_expression(self.when) if self.when is not None else None)

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
    """A built-in policy by name, or a policy TOML file (which may ``extends`` another)."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise DisclosureError(path, f"cannot read the policy: {exc.strerror or exc}") from None
        source = str(path)
    else:
        text, source = builtin_text(str(name_or_path)), f"builtin:{name_or_path}"
    if source in _seen:
        raise DisclosureError(source, "extends itself (a cycle through " + " -> ".join(_seen) + ")")
    return parse_policy(text, source, base_dir=path.parent if not source.startswith("builtin:") else None, seen=_seen)


def parse_policy(text: str, source: str, base_dir: Path | None = None, seen: tuple[str, ...] = ()) -> Policy:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DisclosureError(source, f"not valid TOML: {exc}") from None
    lines = toml_key_lines(text)

    def fail(where: tuple[str | int, ...], reason: str) -> DisclosureError:
        line = line_for(where, lines)
        return DisclosureError(source, f"{reason}{f' (line {line})' if line else ''}")

    meta = data.get("policy", {})
    unknown = set(data) - {"policy", "rules", "levels"}
    if unknown:
        raise fail(
            (sorted(unknown)[0],), f"unknown table {sorted(unknown)[0]!r}; expected [policy], [[rules]], [levels]"
        )
    name = meta.get("name") or Path(source.removeprefix("builtin:")).stem
    base: Policy | None = None
    if "extends" in meta:
        parent = meta["extends"]
        parent_ref = (base_dir / parent) if base_dir and parent.endswith(".toml") else parent
        base = load_policy(parent_ref, (*seen, source))
    rules: dict[str, Rule] = {r.id: r for r in base.rules} if base else {}
    defined_here: set[str] = set()
    for index, raw in enumerate(data.get("rules", [])):
        rule = _parse_rule(raw, index, fail)
        if rule.id in defined_here:
            raise fail(("rules", index), f"rule {rule.id!r} is defined twice")
        defined_here.add(rule.id)
        rules[rule.id] = rule  # a rule of the extended policy with the same id is replaced
        order = list(rules)
        for needed in rule.requires:
            if needed not in rules or order.index(needed) >= order.index(rule.id):
                raise fail(("rules", index, "requires"), f"rule {rule.id!r} requires {needed!r}, not an earlier rule")
    for rule_id, level in data.get("levels", {}).items():
        if rule_id not in rules:
            raise fail(("levels", rule_id), f"[levels] names rule {rule_id!r}, which the policy does not have")
        if level not in Level.__members__:
            raise fail(("levels", rule_id), f"rule {rule_id!r}: level {level!r} is not error, warning, info or off")
        old = rules[rule_id]
        rules[rule_id] = Rule(old.id, Level(level), old.message, old.test, old.when, old.pillar, old.requires)
    digest = hashlib.sha256(((base.sha256 if base else "") + text).encode()).hexdigest()
    return Policy(
        name=name,
        description=meta.get("description", ""),
        rules=tuple(r for r in rules.values() if r.level is not Level.off),
        sha256=digest,
        sources=(*(base.sources if base else ()), source),
    )


def _parse_rule(raw: Any, index: int, fail: Any) -> Rule:
    where: tuple[str | int, ...] = ("rules", index)
    if not isinstance(raw, dict):
        raise fail(where, f"rule #{index + 1} is not a table")
    rule_id = raw.get("id")
    label = f"rule {rule_id!r}" if rule_id else f"rule #{index + 1}"
    if not isinstance(rule_id, str) or not rule_id:
        raise fail(where, f"{label} has no id")
    extra = set(raw) - _RULE_KEYS
    if extra:
        raise fail((*where, sorted(extra)[0]), f"{label}: unknown key {sorted(extra)[0]!r}")
    for required in ("test", "message"):
        if required not in raw:
            raise fail(where, f"{label} has no {required}")
    level = raw.get("level", "error")
    if level not in Level.__members__:
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


def check_expression(expr: Any) -> str | None:
    """Why ``expr`` is not a valid expression, or None."""
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
        return next((p for p in map(check_expression, parts) if p), None)
    if not isinstance(expr.get("field"), str):
        return "missing 'field'"
    ops = [k for k in expr if k != "field"]
    known = (*_COMPARISONS, *_DATES, *_LISTS)
    if len(ops) != 1 or ops[0] not in known:
        return f"needs exactly one test of {', '.join(known)}; got {', '.join(ops) or 'none'}"
    op, target = ops[0], expr[ops[0]]
    if op in _LISTS:
        return check_expression(target)
    if op in ("matches", "not_matches"):
        try:
            re.compile(target)
        except (re.error, TypeError) as exc:
            return f"bad regular expression {target!r}: {exc}"
    if op == "one_of" and not isinstance(target, list):
        return "'one_of' takes a list"
    if op == "count_gte" and not isinstance(target, int):
        return "'count_gte' takes a whole number"
    return None


# -- running ------------------------------------------------------------------------


def run_policy(policy: Policy, subject: dict[str, Any], sources: dict[str, str]) -> list[RuleResult]:
    """Every rule's result for one file. ``subject`` is the record as JSON plus ``provenance``."""
    ctx = Context(subject)
    results = []
    unmet: set[str] = set()  # rules that did not pass, or were not checked because one they require did not
    for rule in policy.rules:
        blocked = [r for r in rule.requires if r in unmet]
        result = _run_rule(policy, rule, subject, ctx, sources, blocked)
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
