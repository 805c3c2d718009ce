"""The checks a repository already runs: hooks, CI steps, linter and type-checker configs,
Claude Code permissions and hooks.

Each item says which checks it `runs` (what the shares count, deduplicated), which names
a prose rule may `cite` to be shown enforced by it, and which rule codes it turns on. A
CI step that runs no check (`uv sync`, `echo`, a generated workflow's set-up) is not an
item at all. Ladder's own artifacts (the `ladder-check` hook, `ladder check` in CI,
`ladder guard` in an agent's hooks) are the lessons themselves and are never counted.
"""

from __future__ import annotations

import configparser
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ladder.audit.commands import CHECKERS, checks, fail_under, makefile
from ladder.audit.items import STRUCTURAL, InventoryItem
from ladder.project import HOOK_ID

Targets = Mapping[str, tuple[list[str], list[str]]]


def structural_items(root: Path) -> list[InventoryItem]:
    targets = makefile(root)
    return [
        *_precommit(root, targets),
        *_semgrep(root),
        *_configs(root),
        *_github_workflows(root, targets),
        *_gitlab(root, targets),
        *_claude(root, targets),
    ]


def _item(source: str, line: int, text: str, level: int, tool: str, runs: Iterable[str],
          cites: Iterable[str] = (), **extra: Any) -> InventoryItem:
    runs = _distinct(runs)
    return InventoryItem(source, line, text, STRUCTURAL, level, tool, runs, _distinct([*cites, *runs]), **extra)


def _distinct(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(n.lower() for n in names if n))


def runs_ladder(command: str) -> bool:
    """A hook or CI step running ladder itself is the lessons again, not an external constraint."""
    return bool(re.search(r"(^|[\s;&|(])ladder\s+(check|test|audit|guard)\b", command))


# --- YAML with line numbers -------------------------------------------------------------


def _yaml_nodes(path: Path) -> Any:
    """The composed YAML node tree (it keeps line numbers), or None when unreadable."""
    import yaml

    try:
        return yaml.compose(path.read_text(encoding="utf-8-sig", errors="replace"))
    except (OSError, yaml.YAMLError):
        return None  # a broken config is the tool's problem to report, not the audit's


def _mapping(node: Any) -> dict[str, Any]:
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return {}
    return {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}


def _key_lines(node: Any) -> dict[str, int]:
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return {}
    return {k.value: _line(k) for k, _ in node.value if isinstance(k, yaml.ScalarNode)}


def _sequence(node: Any) -> list[Any]:
    import yaml

    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


def _scalar(node: Any) -> str:
    import yaml

    return str(node.value) if isinstance(node, yaml.ScalarNode) else ""


def _line(node: Any) -> int:
    return int(node.start_mark.line) + 1


# --- pre-commit ---------------------------------------------------------------------------


def _precommit(root: Path, targets: Targets) -> list[InventoryItem]:
    rel = ".pre-commit-config.yaml"
    items = []
    for repo in _sequence(_mapping(_yaml_nodes(root / rel)).get("repos")):
        url_tool = _repo_tool(_scalar(_mapping(repo).get("repo")))
        for hook in _sequence(_mapping(repo).get("hooks")):
            fields = _mapping(hook)
            hook_id = _scalar(fields.get("id"))
            command = " ".join([_scalar(fields.get("entry")), *map(_scalar, _sequence(fields.get("args")))])
            if not hook_id or hook_id == HOOK_ID or runs_ladder(command):
                continue
            runs, cites = _hook_checks(hook_id, url_tool, command, targets)
            text = f"pre-commit hook {hook_id}" + (f" runs {', '.join(runs)}" if runs != (hook_id,) else "")
            items.append(_item(rel, _line(hook), text, 5, "pre-commit", runs, (hook_id, *cites)))
    return items


def _hook_checks(hook_id: str, url_tool: str, command: str, targets: Targets) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A published hook runs its repository's tool (ruff-format: ruff); a local hook runs
    what its entry runs (`make lint`: ruff), or is its own check (a pygrep pattern)."""
    if url_tool:
        tool = url_tool if hook_id.startswith(url_tool) or hook_id in CHECKERS else hook_id
        return (tool,), (url_tool,)
    runs, cites = checks(command, targets) if command.strip() else ((), ())
    return (runs or (hook_id,)), cites


def _repo_tool(url: str) -> str:
    """The tool a hook repository packages: astral-sh/ruff-pre-commit -> ruff."""
    name = url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
    for affix in ("-pre-commit", "pre-commit-", "mirrors-"):
        name = name.replace(affix, "")
    return "" if name in ("local", "meta", "hooks") else name.lower()


# --- semgrep ------------------------------------------------------------------------------


def _semgrep(root: Path) -> list[InventoryItem]:
    files = [p for p in (root / ".semgrep.yml", root / ".semgrep.yaml") if p.is_file()]
    folder = root / ".semgrep"
    if folder.is_dir():
        files += sorted(p for p in folder.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())
    items = []
    for path in files:
        rel = path.relative_to(root).as_posix()
        for rule in _sequence(_mapping(_yaml_nodes(path)).get("rules")):
            rule_id = _scalar(_mapping(rule).get("id"))
            if rule_id:  # each semgrep rule is its own check, cited by its id
                items.append(_item(rel, _line(rule), f"semgrep rule {rule_id}", 3, "semgrep",
                                   (f"semgrep:{rule_id}",), (rule_id, "semgrep")))
    return items


# --- linter and type-checker configuration ----------------------------------------------

# (tool, file, section header or "" for the whole file). First match per tool wins.
_CONFIG_SOURCES: tuple[tuple[str, str, str], ...] = (
    ("ruff", "ruff.toml", ""),
    ("ruff", ".ruff.toml", ""),
    ("ruff", "pyproject.toml", "[tool.ruff"),
    ("flake8", ".flake8", ""),
    ("flake8", "setup.cfg", "[flake8]"),
    ("flake8", "tox.ini", "[flake8]"),
    ("pylint", ".pylintrc", ""),
    ("pylint", "pylintrc", ""),
    ("pylint", "pyproject.toml", "[tool.pylint"),
    ("mypy", "mypy.ini", ""),
    ("mypy", ".mypy.ini", ""),
    ("mypy", "pyproject.toml", "[tool.mypy"),
    ("mypy", "setup.cfg", "[mypy"),
    ("pyright", "pyrightconfig.json", ""),
    ("pyright", "pyproject.toml", "[tool.pyright"),
    ("basedpyright", "pyproject.toml", "[tool.basedpyright"),
    ("coverage", "pyproject.toml", "[tool.coverage.report"),
    ("coverage", ".coveragerc", "[report]"),
    ("coverage", "setup.cfg", "[coverage:report]"),
    ("eslint", ".eslintrc", ""),
    ("eslint", ".eslintrc.js", ""),
    ("eslint", ".eslintrc.cjs", ""),
    ("eslint", ".eslintrc.json", ""),
    ("eslint", ".eslintrc.yml", ""),
    ("eslint", ".eslintrc.yaml", ""),
    ("eslint", "eslint.config.js", ""),
    ("eslint", "eslint.config.mjs", ""),
    ("eslint", "eslint.config.cjs", ""),
)


def _configs(root: Path) -> list[InventoryItem]:
    """One item per configured checker (level 3: it is set up; a hook or CI step that
    runs it is what makes it block)."""
    items: list[InventoryItem] = []
    seen: set[str] = set()
    for tool, rel, header in _CONFIG_SOURCES:
        path = root / rel
        if tool in seen or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8-sig", errors="replace")
        line = _header_line(text.splitlines(), header) if header else 1
        if not line:
            continue
        codes, off = _codes(tool, rel, text)
        if tool == "coverage" and not codes:
            continue  # coverage configured without a threshold enforces nothing
        seen.add(tool)
        items.append(_item(rel, line, f"{tool} configuration", 3, tool, (tool,), codes=codes, off=off))
    return items


def _header_line(lines: Iterable[str], header: str) -> int:
    """The line of the first section whose header starts with `header` (`[tool.ruff` also
    matches `[tool.ruff.lint]`), or 0."""
    for number, raw in enumerate(lines, start=1):
        stripped = raw.strip()
        rest = stripped[len(header) : len(header) + 1]
        if stripped.startswith(header) and (header.endswith("]") or rest in (".", "]")):
            return number
    return 0


def _codes(tool: str, rel: str, text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(rule-code prefixes turned on, turned off) by a configuration file."""
    if tool == "ruff":
        return _ruff_codes(rel, text)
    if tool in ("pyright", "basedpyright"):
        return _pyright_codes(rel, text)
    if tool == "coverage":
        return _coverage_codes(rel, text), ()
    return (), ()


def _toml(text: str) -> dict[str, Any]:
    from ladder._toml import loads
    from ladder.errors import LadderError

    try:
        return loads(text, "")
    except LadderError:
        return {}  # malformed: the tool will say so; the audit counts what it can


def _ruff_codes(rel: str, text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    data = _toml(text)
    config = data.get("tool", {}).get("ruff", {}) if rel == "pyproject.toml" else data
    lint = {**config, **config.get("lint", {})}
    select = [*lint.get("select", ["E4", "E7", "E9", "F"]), *lint.get("extend-select", [])]
    on = tuple("" if c == "ALL" else str(c) for c in select)
    return on, tuple(str(c) for c in [*lint.get("ignore", []), *lint.get("extend-ignore", [])])


def _pyright_codes(rel: str, text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Every `reportX` rule is on unless the configuration turns it off."""
    if rel.endswith(".json"):
        try:
            config = json.loads(re.sub(r"^\s*//.*$", "", text, flags=re.MULTILINE))  # JSONC comments
        except ValueError:
            config = {}
    else:
        config = _toml(text).get("tool", {}).get("pyright", {})
    off = tuple(k for k, v in config.items() if k.startswith("report") and v in ("none", False))
    return ("report",), off


def _coverage_codes(rel: str, text: str) -> tuple[str, ...]:
    if rel == "pyproject.toml":
        value = _toml(text).get("tool", {}).get("coverage", {}).get("report", {}).get("fail_under")
    else:
        parser = configparser.ConfigParser()
        try:
            parser.read_string(text)
        except configparser.Error:
            return ()
        section = "report" if rel == ".coveragerc" else "coverage:report"
        value = parser.get(section, "fail_under", fallback=None)
    try:
        return (f"coverage:{int(float(value))}",) if value is not None else ()
    except ValueError:
        return ()


# --- CI -------------------------------------------------------------------------------

# Published actions that are a check: `uses: astral-sh/ruff-action@v3` runs ruff.
_ACTIONS = {
    "astral-sh/ruff-action": "ruff", "chartboost/ruff-action": "ruff",
    "codespell-project/actions-codespell": "codespell", "jakebailey/pyright-action": "pyright",
    "returntocorp/semgrep-action": "semgrep", "semgrep/semgrep-action": "semgrep",
    "github/codeql-action/analyze": "codeql", "zizmorcore/zizmor-action": "zizmor",
}


def _github_workflows(root: Path, targets: Targets) -> list[InventoryItem]:
    folder = root / ".github" / "workflows"
    if not folder.is_dir():
        return []
    items = []
    for path in sorted(p for p in folder.iterdir() if p.suffix in (".yml", ".yaml") and p.is_file()):
        rel = path.relative_to(root).as_posix()
        for job_id, job in _mapping(_mapping(_yaml_nodes(path)).get("jobs")).items():
            for step in _sequence(_mapping(job).get("steps")):
                item = _step(rel, job_id, step, targets)
                if item:
                    items.append(item)
    return items


def _step(rel: str, job_id: str, step: Any, targets: Targets) -> InventoryItem | None:
    """A step that runs a check; None for set-up, deployment, and ladder itself."""
    fields = _mapping(step)
    command = _scalar(fields.get("run")).strip()
    action = _ACTIONS.get(_scalar(fields.get("uses")).split("@", 1)[0], "")
    if runs_ladder(command):
        return None
    runs, cites = checks(command, targets) if command else ((action,) if action else (), ())
    if not runs:
        return None
    name = _scalar(fields.get("name")) or (command.splitlines() or [action])[0][:80]
    return _item(rel, _line(step), f"CI step {job_id}: {name}", 4, "github-actions", runs, cites,
                 codes=fail_under(command))


# Top-level keys of .gitlab-ci.yml that configure the pipeline rather than name a job.
_GITLAB_RESERVED = {
    "stages", "variables", "default", "include", "workflow", "image", "services",
    "before_script", "after_script", "cache",
}


def _gitlab(root: Path, targets: Targets) -> list[InventoryItem]:
    rel = ".gitlab-ci.yml"
    if not (root / rel).is_file():
        return []
    items = []
    tree = _yaml_nodes(root / rel)
    keys = _key_lines(tree)
    for job_id, job in _mapping(tree).items():
        fields = _mapping(job)
        if job_id.startswith(".") or job_id in _GITLAB_RESERVED or "script" not in fields:
            continue  # hidden template jobs (.name) and global keywords are not jobs
        script = "\n".join(_script_lines(fields["script"]))
        runs, cites = checks(script, targets)
        if runs and not runs_ladder(script):
            items.append(_item(rel, keys[job_id], f"CI job {job_id}", 4, "gitlab-ci", runs, cites,
                               codes=fail_under(script)))
    return items


def _script_lines(node: Any) -> list[str]:
    return [_scalar(n) for n in _sequence(node)] or [_scalar(node)]


# --- Claude Code ------------------------------------------------------------------------

# Hook events whose command can stop the agent (exit 2 blocks); the others only report.
_BLOCKING_EVENTS = {"PreToolUse", "UserPromptSubmit", "Stop", "SubagentStop", "PermissionRequest"}
_PATTERN = re.compile(r"^(\w+)\((.*)\)$")


def _claude(root: Path, targets: Targets) -> list[InventoryItem]:
    """`.claude/settings.json`: deny and ask rules block an action before it happens
    (level 5); hook commands run checks. Allow rules relax, so they enforce nothing."""
    rel = ".claude/settings.json"
    try:
        text = (root / rel).read_text(encoding="utf-8-sig")
        data = json.loads(text)
    except (OSError, ValueError):
        return []
    if not isinstance(data, dict):
        return []
    permissions = data.get("permissions")
    items = _claude_permissions(rel, text, permissions if isinstance(permissions, dict) else {})
    hooks = data.get("hooks")
    return items + _claude_hooks(rel, text, hooks if isinstance(hooks, dict) else {}, targets)


def _claude_permissions(rel: str, text: str, permissions: Mapping[str, Any]) -> list[InventoryItem]:
    items = []
    for verb in ("deny", "ask"):
        rules = permissions.get(verb)
        for rule in rules if isinstance(rules, list) else []:
            if isinstance(rule, str):
                items.append(_item(rel, _line_of(text, rule), f"Claude Code {verb}s {rule}", 5, "claude",
                                   (f"claude:{verb} {rule}",), _rule_names(rule), forbids=True))
    return items


def _rule_names(rule: str) -> tuple[str, ...]:
    """What a prose rule names to forbid what this permission rule blocks:
    `Bash(git push --force:*)` -> "git push --force"; `Edit(src/eval.py)` -> the path
    and its file name."""
    match = _PATTERN.match(rule.strip())
    if not match:
        return ()
    inner = re.sub(r"(:\*|\s\*|\*\*?)$", "", match.group(2)).strip().lstrip("./")
    names = [inner] if inner and "*" not in inner else []
    if match.group(1) != "Bash" and "/" in inner:
        names.append(inner.rsplit("/", 1)[-1])
    return tuple(names)


def _claude_hooks(rel: str, text: str, hooks: Mapping[str, Any], targets: Targets) -> list[InventoryItem]:
    items = []
    for event, groups in hooks.items():
        for group in groups if isinstance(groups, list) else []:
            for hook in group.get("hooks", []) if isinstance(group, dict) else []:
                command = str(hook.get("command", "")) if isinstance(hook, dict) else ""
                if not command or runs_ladder(command):
                    continue
                runs, cites = checks(command, targets)
                level = 5 if event in _BLOCKING_EVENTS else 4
                items.append(_item(rel, _line_of(text, command), f"Claude Code {event} hook: {command[:60]}",
                                   level, "claude", runs or (f"claude:{event} {command[:60]}",), cites))
    return items


def _line_of(text: str, needle: str) -> int:
    index = text.find(json.dumps(needle)[1:-1])
    return text.count("\n", 0, index) + 1 if index >= 0 else 1
