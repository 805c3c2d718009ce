"""`pattern`: a raw semgrep rule, for what the other templates cannot say.

Three ways to give it, exactly one per lesson:
- `pattern = "eval(...)"` — one semgrep pattern; ladder writes the rest of the rule;
- `yaml = '''rules: [...]'''` — the text of a semgrep rules file;
- `config = "rules/no-eval.yaml"` — a repo-relative semgrep rules file
  (semgrep-style annotated test files next to it are run by `ladder test`, see
  `ladder.rules.semgrep_tests`).

A lesson holds one rule. A file with several rules (`rules:` lists them) is used as
it is, one lesson per rule: `rule_id = "no-eval"` picks the lesson's rule, so the
file needs no hand split (issue 13). Without `rule_id` such a file is refused with
the ids it holds; so is a `rule_id` the file does not have, or has twice.

Rules are checked offline here (YAML, the chosen rule, its required keys, one top-level
matching key); semgrep itself parses them when the engine runs, which turns a pattern
semgrep rejects into a LadderError naming the lesson. `verify_with_semgrep` does that
ahead of time for the promote path; it is never called on the hook path.

A rule's own `paths: include/exclude` are applied by ladder (with `ladder.globs`)
rather than by semgrep, because semgrep matches them against the path as passed and
the block/allow cases are scanned from a temporary directory.
"""

from __future__ import annotations

import ast
import copy
import functools
import json
import os
import re
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from ladder.errors import LadderError
from ladder.lesson import Case, Lesson
from ladder.rules.semgrep_launch import SEMGREP_ENV, SEMGREP_FLAGS
from ladder.rules.templates._args import Arg, bad_arg, check_args

NAME = "pattern"
SEVERITIES = ("ERROR", "WARNING", "INFO", "INVENTORY", "EXPERIMENT", "CRITICAL", "HIGH", "MEDIUM", "LOW")
# Top-level keys that say what a rule matches; a search rule has exactly one.
MATCH_KEYS = ("pattern", "patterns", "pattern-either", "pattern-regex", "match")
SOURCES = ("pattern", "yaml", "config")

ARGS = (
    Arg("pattern", "str", "one semgrep pattern", '"eval(...)"', required=False),
    Arg("yaml", "str", "the text of a semgrep rules file", "'''rules: [...]'''", required=False),
    Arg("config", "str", "a repo-relative semgrep YAML file", '"rules/no-eval.yaml"', required=False),
    Arg("rule_id", "str", "the id of the lesson's rule in a yaml/config holding several", '"no-eval"',
        required=False),
    Arg("message", "str", "the message shown when the rule fires", '"use ast.literal_eval"', required=False),
    Arg("severity", "str", "a semgrep severity", '"ERROR"', required=False, choices=SEVERITIES),
)
LANGUAGES = Arg("languages", "list", "a list of semgrep language names", '["python"]', required=False)


@dataclass(frozen=True)
class SemgrepRule:
    """One lesson's rule as the engine sends it: `rule["id"]` is the lesson id."""

    rule: dict[str, Any]
    semgrep_id: str  # the id the user wrote (the lesson id for `pattern = ...`)
    include: tuple[str, ...] = ()  # the rule's own `paths:`, applied by ladder
    exclude: tuple[str, ...] = ()


def _languages(value: object, where: str) -> list[str]:
    if isinstance(value, str):  # `--rule pattern languages=python,js` on the command line
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise bad_arg(NAME, LANGUAGES, f"is {value!r}", where)
    return list(value)


def _check_source(args: Mapping[str, Any], where: str) -> str:
    given = [k for k in SOURCES if k in args]
    if len(given) == 1:
        return given[0]
    raise LadderError(
        f"template {NAME!r} needs exactly one of the arguments pattern, yaml, config"
        f" (got {', '.join(given) or 'none'})",
        where=where,
        todo='e.g. pattern = "eval(...)", or config = "rules/no-eval.yaml"',
    )


def _check_config_path(config: str, where: str) -> None:
    path = Path(config)
    if path.is_absolute() or ".." in path.parts:
        raise bad_arg(NAME, ARGS[2], f"is {config!r}, not a path inside the repository", where)
    if path.suffix not in (".yaml", ".yml"):
        raise bad_arg(NAME, ARGS[2], f"is {config!r}, not a .yaml/.yml file", where)


def _broken_file(origin: str, problem: str, where: str) -> LadderError:
    return LadderError(
        f"semgrep rule ({origin}) {problem}",
        where=where,
        todo="fix the rule; `semgrep scan --config FILE` shows semgrep's own view of it",
    )


@functools.lru_cache(maxsize=64)
def _load(text: str) -> Any:
    """The parsed YAML of a rules file, once per text per process: every command that
    changes a lesson regenerates LESSONS.md, which describes every lesson's rule, and a
    registry file serving 17 lessons was parsed 34 times (bench/semgrep_registry.py: 7 of
    a promote's 9 s with 373 lessons). libyaml's loader when PyYAML has it."""
    import yaml  # only `yaml`/`config` lessons pay for PyYAML

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def yaml_rules(text: str, where: str, origin: str) -> list[dict[str, Any]]:
    """Every rule of a semgrep rules file, or LadderError saying what is wrong."""
    import yaml

    try:
        data = copy.deepcopy(_load(text))  # callers may change what they get
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise _broken_file(origin, f"is not valid YAML{at}: {problem}", where) from exc
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise _broken_file(origin, "has no top-level `rules:` list", where)
    rules = data["rules"]
    if not all(isinstance(rule, dict) for rule in rules):
        raise _broken_file(origin, "has a rule that is not a mapping", where)
    return [dict(rule) for rule in rules]


def pick_rule(rules: Sequence[Mapping[str, Any]], rule_id: str | None, where: str, origin: str) -> dict[str, Any]:
    """The lesson's rule among `rules`: the one named `rule_id`, or the only one."""
    if not rules:
        raise _broken_file(origin, "holds no rule", where)
    ids = ", ".join(str(r.get("id")) for r in rules)
    if rule_id is None:
        if len(rules) == 1:
            return dict(rules[0])
        raise LadderError(
            f"semgrep rule ({origin}) holds {len(rules)} rules ({ids}); a lesson holds exactly one",
            where=where,
            todo="add rule_id=ID to the lesson's rule: one lesson per rule of the file",
        )
    chosen = [r for r in rules if r.get("id") == rule_id]
    if len(chosen) == 1:
        return dict(chosen[0])
    problem = "has no rule" if not chosen else f"holds {len(chosen)} rules"
    raise LadderError(
        f"semgrep rule ({origin}) {problem} with id {rule_id!r} (its rules: {ids})",
        where=where,
        todo="set rule_id to one id the file holds once" if chosen else "fix rule_id, or the rule's `id:`",
    )


def check_rule_shape(rule: Mapping[str, Any], where: str, origin: str) -> None:
    """Offline check of the keys semgrep requires (never `semgrep --validate`: it needs network)."""

    def broken(problem: str) -> LadderError:
        return LadderError(
            f"semgrep rule ({origin}) {problem}",
            where=where,
            todo="fix the rule; see https://semgrep.dev/docs/writing-rules/rule-syntax",
        )

    for key in ("id", "message", "severity"):
        if not isinstance(rule.get(key), str) or not rule[key].strip():
            raise broken(f"needs a string `{key}:`")
    if rule["severity"] not in SEVERITIES:
        raise broken(f"has severity {rule['severity']!r}, not one of {', '.join(SEVERITIES)}")
    langs = rule.get("languages")
    if not isinstance(langs, list) or not langs or not all(isinstance(v, str) for v in langs):
        raise broken("needs a `languages:` list, e.g. [python]")
    mode = rule.get("mode", "search")
    if mode == "taint":
        if "taint" not in rule and not ("pattern-sources" in rule and "pattern-sinks" in rule):
            raise broken("is a taint rule without `pattern-sources:` and `pattern-sinks:`")
        return
    if mode not in ("search", "join", "extract"):
        raise broken(f"has unknown mode {mode!r}")
    if mode != "search":
        return
    found = [k for k in MATCH_KEYS if k in rule]
    if len(found) != 1:
        what = "none" if not found else ", ".join(found)
        raise broken(f"needs exactly one of {', '.join(MATCH_KEYS)} (found {what})")
    # A pattern-regex is PCRE, which accepts more than Python's re: semgrep judges it.


def _paths(rule: Mapping[str, Any], key: str) -> tuple[str, ...]:
    paths = rule.get("paths")
    if not isinstance(paths, dict):
        return ()
    value = paths.get(key, [])
    return tuple(value) if isinstance(value, list) else (str(value),)


def _normalise(args: Mapping[str, Any], where: str) -> dict[str, Any]:
    rest = {k: v for k, v in args.items() if k != "languages"}
    out = check_args(NAME, ARGS, rest, where)
    if "languages" in args:
        out["languages"] = _languages(args["languages"], where)
    source = _check_source(out, where)
    if source == "config":
        _check_config_path(out["config"], where)
    if source == "pattern" and "rule_id" in out:
        raise bad_arg(NAME, "rule_id", "picks a rule of a `yaml` or `config` file; `pattern` is one rule", where)
    return out


def _apply_args(rule: dict[str, Any], args: Mapping[str, Any]) -> dict[str, Any]:
    for key in ("message", "severity", "languages"):
        if key in args:
            rule[key] = args[key]
    rule.setdefault("severity", "WARNING")
    rule.setdefault("languages", ["python"])
    return rule


def rule_from_text(args: Mapping[str, Any], text: str, where: str, origin: str) -> dict[str, Any]:
    rule = _apply_args(pick_rule(yaml_rules(text, where, origin), args.get("rule_id"), where, origin), args)
    check_rule_shape(rule, where, origin)
    return rule


def read_config(root: Path, config: str, where: str) -> str:
    path = root / config
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LadderError(
            f"semgrep rule file {config!r} cannot be read ({exc.strerror or exc})",
            where=where,
            todo="create it, or fix the `config` argument of the lesson's [rule]",
        ) from exc


def test_files_glob(config: str) -> str:
    """The glob of a rule file's annotated test files: `semgrep --test` takes every file
    beside it whose name up to the first dot is the rule file's (`x.py`, `x.fixed.py`)."""
    path = PurePosixPath(config)
    return str(path.parent / (path.name.split(".", 1)[0] + ".*"))


def _config_root(root: Path, config: str) -> Path:
    """Where `config` lives: `root`, or else the repository ladder runs in — block/allow
    cases are checked with a temporary directory as the request's root."""
    if (root / config).is_file():
        return root
    from ladder.git import find_root

    try:
        here = find_root()
    except LadderError:
        return root
    return here if (here / config).is_file() else root


def semgrep_rule(lesson: Lesson, root: Path, where: str = "") -> SemgrepRule:
    """The lesson's rule ready for one combined semgrep config (id = the lesson id)."""
    assert lesson.rule is not None
    where = where or f".ladder/lessons/{lesson.id}.toml"
    args = _normalise(lesson.rule.args, where)
    if "pattern" in args:
        rule: dict[str, Any] = {
            "id": lesson.id,
            "message": args.get("message") or lesson.title,
            "pattern": args["pattern"],
        }
        rule = _apply_args(rule, {k: v for k, v in args.items() if k != "message"})
        return SemgrepRule(rule, lesson.id)
    if "yaml" in args:
        rule = rule_from_text(args, args["yaml"], where, "the `yaml` argument")
    else:
        config = args["config"]
        rule = rule_from_text(args, read_config(_config_root(root, config), config, where), where, config)
    semgrep_id = str(rule["id"])
    include, exclude = _paths(rule, "include"), _paths(rule, "exclude")
    if "config" in args:
        # The rule's own annotated test files (rules/x.py next to rules/x.yaml) are full
        # of `# ruleid:` examples: they must not count as violations in the tree.
        exclude = (*exclude, test_files_glob(args["config"]))
    rule.pop("paths", None)
    rule["id"] = lesson.id
    return SemgrepRule(rule, semgrep_id, include, exclude)


# --- generated cases ---------------------------------------------------------------

_DEEP = re.compile(r"<\.\.\.\s*(.*?)\s*\.\.\.>", re.S)
_ELLIPSIS_METAVAR = re.compile(r"\$\.\.\.[A-Z_][A-Z0-9_]*")
_METAVAR = re.compile(r"\$([A-Z_][A-Z0-9_]*)")


def _fill_ellipses(text: str) -> str:
    """`...` dropped from argument lists (with a comma), `pass` where it is a statement."""
    text = re.sub(r"\.\.\.\s*,\s*(?=\S)", "", text)  # f(..., x) -> f(x)
    text = re.sub(r",\s*\.\.\.(?=\s*[)\]}])", "", text)  # f(x, ...) -> f(x)
    text = re.sub(r"(?<=[(\[{])\s*\.\.\.\s*(?=[)\]}])", "", text)  # f(...) -> f()
    return text.replace("...", "pass")


def example_from_pattern(pattern: str) -> str | None:
    """Python code the pattern should match, by replacing its wildcards; None if unsure.

    Best effort: `eval(...)` -> `eval()`, `$F($X, ...)` -> `f(x)`,
    `foo(..., $X, ...)` -> `foo(x)`. The result is only checked to be Python;
    `ladder test` shows whether semgrep really flags it.
    """
    text = _DEEP.sub(r"\1", pattern)
    text = _ELLIPSIS_METAVAR.sub("", text)
    text = _METAVAR.sub(lambda m: m.group(1).lower(), text)
    for candidate in (_fill_ellipses(text), text):  # then `...` as Python's Ellipsis
        code = candidate.strip() + "\n"
        try:
            ast.parse(code)
        except SyntaxError:
            continue
        # `pass` alone is the allow case: a pattern that matches it matches anything.
        return code if code.strip() not in ("", "pass") else None
    return None


# --- semgrep's own opinion, for the promote path only ------------------------------


def semgrep_command() -> list[str]:
    """How to run semgrep: the one installed next to ladder first, then PATH."""
    import shutil
    import sys

    here = shutil.which("semgrep", path=str(Path(sys.executable).parent))
    found = here or shutil.which("semgrep")
    if found is None:
        raise LadderError(
            "semgrep is not installed, so `pattern` rules cannot run",
            todo="`pip install semgrep` in the environment ladder runs from (it is a dependency "
            "of enforcement-ladder), or demote the lesson",
        )
    return [found]




def semgrep_errors(rules: Sequence[Mapping[str, Any]], timeout_s: float = 60.0) -> list[str]:
    """Semgrep's complaints about `rules`, from a scan of one empty file (~0.2 s)."""
    with tempfile.TemporaryDirectory(prefix="ladder-verify-") as tmp:
        config = Path(tmp) / "rules.json"
        config.write_text(json.dumps({"rules": list(rules)}), encoding="utf-8")
        target = Path(tmp) / "empty.py"
        target.write_text("", encoding="utf-8")
        cmd = [*semgrep_command(), "scan", "--experimental", *SEMGREP_FLAGS, "--config", str(config), str(target)]
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout_s, env={**os.environ, **SEMGREP_ENV}, check=False
        )
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        return [proc.stderr.strip() or f"semgrep exited with {proc.returncode} and no output"]
    return [str(e.get("message") or e.get("long_msg") or e.get("type")) for e in data.get("errors", [])]


def verify_with_semgrep(lesson: Lesson, root: Path, where: str = "") -> None:
    """LadderError when semgrep itself rejects the lesson's rule (a bad pattern)."""
    rule = semgrep_rule(lesson, root, where)
    errors = semgrep_errors([rule.rule])
    if errors:
        raise LadderError(
            f"semgrep rejects the rule: {errors[0].strip().splitlines()[0]}",
            where=where or f".ladder/lessons/{lesson.id}.toml",
            todo="fix the pattern; `semgrep scan --config FILE` shows the details",
        )


# --- the template ------------------------------------------------------------------


@dataclass(frozen=True)
class Pattern:
    name: str = NAME
    engine: str = "semgrep"
    structural: bool = True
    summary: str = "A raw semgrep rule: one pattern, the YAML text of a rule, or a rule file (config)."

    def validate(self, args: Mapping[str, Any], where: str) -> dict[str, Any]:
        out = _normalise(args, where)
        if "pattern" in out:
            rule = _apply_args({"id": "lesson", "message": out.get("message", "-"), "pattern": out["pattern"]}, out)
            check_rule_shape(rule, where, "the `pattern` argument")
        elif "yaml" in out:
            rule_from_text(out, out["yaml"], where, "the `yaml` argument")
        else:
            self._validate_config(out, where)
        return out

    def _validate_config(self, args: Mapping[str, Any], where: str) -> None:
        # validate() has no root: check the file when we can see the repository from here.
        from ladder.git import find_root

        try:
            root = find_root()
        except LadderError:
            return
        rule_from_text(args, read_config(root, args["config"], where), where, args["config"])

    def generated_cases(self, args: Mapping[str, Any]) -> tuple[tuple[Case, ...], tuple[Case, ...]]:
        langs = args.get("languages", ["python"])
        if not set(langs) <= {"python", "python3", "py"}:
            return (), ()  # cases for other languages need a file of that language: give them
        allow = (Case("pass\n", note="code without the pattern"),)
        pattern = args.get("pattern")
        example = example_from_pattern(pattern) if isinstance(pattern, str) else None
        if example is None:
            # No block case: promote to 4 then asks for one (`--block CODE`).
            return (), allow
        return (Case(example, note="the pattern with its wildcards filled in"),), allow

    def describe(self, args: Mapping[str, Any]) -> str:
        if "pattern" in args:
            text = f"Code must not match the semgrep pattern `{args['pattern']}`."
        elif "config" in args:
            which = f"`{args['rule_id']}` " if "rule_id" in args else ""
            text = f"Code must not match the semgrep rule {which}in `{args['config']}`."
        else:
            text = "Code must not match the lesson's semgrep rule."
        if args.get("message"):
            text += f" {args['message']}"
        return text


TEMPLATE = Pattern()
