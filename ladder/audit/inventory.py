"""The constraints a repository already has outside `.ladder/`.

A repository that never used ladder still has rules: sentences in AGENTS.md or
CONTRIBUTING.md (prose, levels 1-2: they work only if someone reads them) and
pre-commit hooks, linter configs and CI steps (structural, levels 3-5: a machine
enforces them). `ladder audit` counts both so the prose-versus-structure figure and
the gap report need nothing but a checkout; `ladder adopt` turns the prose into lessons.

Ladder's own artifacts are never counted here: the managed block in AGENTS.md /
CLAUDE.md, the lessons document, and the `ladder-check` hook are the lessons
themselves, which the audit counts from `.ladder/lessons`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ladder.lesson import Lesson
from ladder.project import HOOK_ID

PROSE, STRUCTURAL = "prose", "structural"
ADOPTED_TAG = "adopted"

# Files read by coding agents: a rule there is in the agent's context (level 2).
AGENT_FILES = ("AGENTS.md", "CLAUDE.md", ".cursorrules", ".github/copilot-instructions.md")
# Files read by people: a rule there is a note (level 1).
HUMAN_FILES = ("CONTRIBUTING.md", "CONTRIBUTING", ".github/CONTRIBUTING.md", "docs/CONTRIBUTING.md")
CURSOR_RULES_DIR = ".cursor/rules"

BEGIN_MARK, END_MARK = "<!-- ladder:begin", "<!-- ladder:end"

_KEYWORDS = re.compile(
    r"\b(must|never|always|do not|don['\u2019]t|should|shouldn['\u2019]t|avoid|required?|forbidden|mandatory)\b",
    re.IGNORECASE,
)
_ITEM = re.compile(r"^(\s*)(?:[-*+]|\d{1,3}[.)])\s+(.*)$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`*_\"'(])")
_FENCE = re.compile(r"^\s*(```|~~~)")


@dataclass(frozen=True)
class InventoryItem:
    """One constraint found outside `.ladder/`."""

    source: str  # repo-relative posix path
    line: int  # 1-based
    text: str  # the rule sentence, or a name such as "pre-commit hook ruff"
    kind: str  # PROSE or STRUCTURAL
    level: int  # the ladder level it corresponds to
    tool: str  # where it comes from: agents, docs, pre-commit, semgrep, ruff, github-actions, ...
    # Structural: the names (hook id, tool, command) a prose rule would mention if this
    # item enforces it ("- Run ruff before pushing"); the gap report matches on them.
    keywords: tuple[str, ...] = ()

    @property
    def location(self) -> str:
        return f"{self.source}:{self.line}"


def inventory(root: Path, agent_files: Sequence[str] = (), skip: Sequence[str] = ()) -> list[InventoryItem]:
    """Every prose and structural constraint under `root`, in a stable order.

    `agent_files` adds the project's configured agent files (`[tool.ladder] agent_files`)
    to the well-known ones; `skip` names files ladder generates (the lessons document).
    """
    items: list[InventoryItem] = []
    items += prose_items(root, agent_files, skip)
    items += _precommit(root)
    items += _semgrep(root)
    items += _linters(root)
    items += _github_workflows(root)
    items += _gitlab(root)
    return items


# --- prose -------------------------------------------------------------------------


def prose_files(root: Path, agent_files: Sequence[str] = (), skip: Sequence[str] = ()) -> list[tuple[str, int]]:
    """(repo-relative path, level) of every prose file present, agent files first.

    A file reached twice (CLAUDE.md as a symlink to AGENTS.md) is read once.
    """
    names = [(name, 2) for name in (*AGENT_FILES, *agent_files)]
    cursor = root / CURSOR_RULES_DIR
    if cursor.is_dir():
        names += [(p.relative_to(root).as_posix(), 2) for p in sorted(cursor.rglob("*.mdc"))]
    names += [(name, 1) for name in HUMAN_FILES]
    found: dict[str, int] = {}
    seen = {(root / name).resolve() for name in skip}
    for name, level in names:
        path = root / name
        if path.is_file() and path.resolve() not in seen:
            seen.add(path.resolve())
            found[name] = level
    return list(found.items())


def prose_items(root: Path, agent_files: Sequence[str] = (), skip: Sequence[str] = ()) -> list[InventoryItem]:
    items = []
    for rel, level in prose_files(root, agent_files, skip):
        try:
            text = (root / rel).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue  # unreadable: nothing to count, and the audit must not fail for it
        tool = "agents" if level == 2 else "docs"
        for line, rule in rule_lines(text, agent_file=level == 2):
            items.append(InventoryItem(rel, line, rule, PROSE, level, tool))
    return items


def rule_lines(text: str, *, agent_file: bool) -> list[tuple[int, str]]:
    """(line, rule text) of each rule-like line of a Markdown or plain-text document.

    A rule is a bullet or numbered item, or a sentence of a paragraph, that says
    must / never / always / do not / should / avoid / required. In an agent file every
    item counts even without such a word ("- Use pytest"): everything there is an
    instruction to the agent. Code fences, headings, HTML comments, front matter and
    ladder's own managed block are skipped.
    """
    out: list[tuple[int, str]] = []
    for parts, is_item in _blocks(text):
        if is_item:
            clean = _clean(" ".join(t for _, t in parts))
            if _is_rule(clean) and (agent_file or _KEYWORDS.search(clean)):
                out.append((parts[0][0], clean))
            continue
        for line, sentence in _sentences(parts):
            clean = _clean(sentence)
            if _is_rule(clean) and _KEYWORDS.search(clean):
                out.append((line, clean))
    return out


def _is_rule(clean: str) -> bool:
    """Not a lone word or link, nor the lead-in of a nested list ("Testing:")."""
    return len(clean.split()) >= 2 and not clean.endswith(":")


def _sentences(parts: list[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    """(line it starts on, sentence) of a paragraph wrapped over several lines."""
    joined, starts = "", []
    for line, text in parts:
        starts.append((len(joined), line))
        joined += text + " "
    begin = 0
    for match in [*_SENTENCE_END.finditer(joined), None]:
        end = match.start() if match else len(joined)
        line = max(ln for offset, ln in starts if offset <= begin)
        if joined[begin:end].strip():
            yield line, joined[begin:end].strip()
        begin = match.end() if match else end


def _blocks(text: str) -> Iterator[tuple[list[tuple[int, str]], bool]]:
    """The (line, text) parts of each paragraph or list item, and whether it is an item."""
    is_item = False
    parts: list[tuple[int, str]] = []
    in_fence = in_managed = in_comment = False
    lines = text.splitlines()
    first = _front_matter_end(lines)

    def flush() -> Iterator[tuple[list[tuple[int, str]], bool]]:
        if parts:
            yield parts, is_item

    for number, raw in enumerate(lines, start=1):
        if number <= first:
            continue
        stripped = raw.strip()
        if stripped.startswith(BEGIN_MARK):
            yield from flush()
            parts, in_managed = [], True
            continue
        if in_managed:
            in_managed = not stripped.startswith(END_MARK)
            continue
        if _FENCE.match(raw):
            yield from flush()
            parts, in_fence = [], not in_fence
            continue
        if in_fence:
            continue
        if in_comment or stripped.startswith("<!--"):
            in_comment = "-->" not in stripped
            continue
        item = _ITEM.match(raw)
        if not stripped or stripped.startswith(("#", "|", ">", "---")) or item:
            yield from flush()
            parts = []
            if item:
                parts, is_item = [(number, item.group(2))], True
            continue
        if not parts:
            is_item = False
        parts.append((number, stripped))  # a wrapped line continues the paragraph or item
    yield from flush()


def _front_matter_end(lines: list[str]) -> int:
    """The line number closing a leading `---` front matter block (.mdc files), or 0."""
    if not lines or lines[0].strip() != "---":
        return 0
    for number, raw in enumerate(lines[1:], start=2):
        if raw.strip() == "---":
            return number
    return 0


def _clean(text: str) -> str:
    """Markdown emphasis and checkboxes removed; inline code and words kept."""
    text = re.sub(r"^\[[ xX]\]\s+", "", text.strip())
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)  # [label](url) -> label
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)
    return re.sub(r"\s+", " ", text).strip()


# --- structural ---------------------------------------------------------------------


def _yaml_nodes(path: Path) -> Any:
    """The composed YAML node tree (it keeps line numbers), or None when unreadable."""
    import yaml

    try:
        return yaml.compose(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, yaml.YAMLError):
        return None  # a broken config is the tool's problem to report, not the audit's


def _mapping(node: Any) -> dict[str, Any]:
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return {}
    return {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}


def _key_lines(node: Any) -> dict[str, int]:
    """The line of each key of a mapping node (a job's line is its name's line)."""
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


def _precommit(root: Path) -> list[InventoryItem]:
    rel = ".pre-commit-config.yaml"
    tree = _yaml_nodes(root / rel)
    items = []
    for repo in _sequence(_mapping(tree).get("repos")):
        url_tool = _repo_tool(_scalar(_mapping(repo).get("repo")))
        for hook in _sequence(_mapping(repo).get("hooks")):
            fields = _mapping(hook)
            hook_id = _scalar(fields.get("id"))
            if not hook_id or hook_id == HOOK_ID:  # ladder's own hook is the lessons themselves
                continue
            words = (hook_id, url_tool, *_commands(_scalar(fields.get("entry"))))
            items.append(
                InventoryItem(rel, _line(hook), f"pre-commit hook {hook_id}", STRUCTURAL, 5, "pre-commit", _words(words))
            )
    return items


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
            if rule_id:
                items.append(
                    InventoryItem(rel, _line(rule), f"semgrep rule {rule_id}", STRUCTURAL, 3, "semgrep", (rule_id, "semgrep"))
                )
    return items


# (tool, file, section header or "" for the whole file). First match per tool wins.
_LINTER_SOURCES: tuple[tuple[str, str, str], ...] = (
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


def _linters(root: Path) -> list[InventoryItem]:
    """One entry per configured linter or type checker (level 3: it reports, CI may block)."""
    items: list[InventoryItem] = []
    seen: set[str] = set()
    cache: dict[str, list[str]] = {}
    for tool, rel, header in _LINTER_SOURCES:
        if tool in seen or not (root / rel).is_file():
            continue
        line = 1
        if header:
            if rel not in cache:
                cache[rel] = (root / rel).read_text(encoding="utf-8", errors="replace").splitlines()
            line = _header_line(cache[rel], header)
            if not line:
                continue
        seen.add(tool)
        items.append(InventoryItem(rel, line, f"{tool} configuration", STRUCTURAL, 3, tool, (tool,)))
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


def _runs_ladder(command: str) -> bool:
    """A CI step running ladder itself is the lessons again, not an external constraint."""
    return bool(re.search(r"(^|[\s;&|(])ladder\s+(check|test|audit)\b", command))


def _github_workflows(root: Path) -> list[InventoryItem]:
    folder = root / ".github" / "workflows"
    if not folder.is_dir():
        return []
    items = []
    for path in sorted(p for p in folder.iterdir() if p.suffix in (".yml", ".yaml") and p.is_file()):
        rel = path.relative_to(root).as_posix()
        for job_id, job in _mapping(_mapping(_yaml_nodes(path)).get("jobs")).items():
            for step in _sequence(_mapping(job).get("steps")):
                fields = _mapping(step)
                command = _scalar(fields.get("run")).strip()
                if not command or _runs_ladder(command):
                    continue
                name = _scalar(fields.get("name")) or command.splitlines()[0][:80]
                items.append(
                    InventoryItem(
                        rel, _line(step), f"CI step {job_id}: {name}", STRUCTURAL, 4, "github-actions", _commands(command)
                    )
                )
    return items


# Top-level keys of .gitlab-ci.yml that configure the pipeline rather than name a job.
_GITLAB_RESERVED = {
    "stages", "variables", "default", "include", "workflow", "image", "services",
    "before_script", "after_script", "cache",
}


def _gitlab(root: Path) -> list[InventoryItem]:
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
        if any(_runs_ladder(line) for line in _script_lines(fields["script"])):
            continue
        words = _words((job_id, *_commands("\n".join(_script_lines(fields["script"])))))
        items.append(InventoryItem(rel, keys[job_id], f"CI job {job_id}", STRUCTURAL, 4, "gitlab-ci", words))
    return items


def _script_lines(node: Any) -> list[str]:
    return [_scalar(n) for n in _sequence(node)] or [_scalar(node)]


# --- keywords for the gap report -----------------------------------------------------

_NOT_A_CHECK = {
    "cd", "echo", "pip", "pip3", "export", "set", "source", "git", "sudo", "apt", "apt-get",
    "mkdir", "cp", "mv", "rm", "cat", "curl", "wget", "ls", "python", "python3", "bash", "sh",
    "env", "uv", "pipx", "brew", "docker", "true", "exit", "test", "if", "then", "fi", "for", "do", "done",
    "sync", "install", "add", "lock",
}
_RUNNERS = {"uv", "poetry", "pipenv", "pdm", "hatch", "rye"}  # `uv run X` runs X
_TASKS = {"npm", "yarn", "pnpm", "make", "just", "tox", "nox", "cargo", "go"}  # `make lint` names a task


def _commands(script: str) -> tuple[str, ...]:
    """The checking tools a shell script runs: `python -m pytest -q` -> pytest."""
    found: list[str] = []
    for raw in script.replace("&&", "\n").replace(";", "\n").splitlines():
        words = [w for w in raw.split() if "=" not in w or w.startswith("-")]
        while words and (words[0] in _RUNNERS or words[0] in ("npx", "bunx", "exec", "time")):
            words = words[2:] if words[0] in _RUNNERS and words[1:2] == ["run"] else words[1:]
        if len(words) >= 3 and words[0] in ("python", "python3") and words[1] == "-m":
            words = words[2:]
        if not words:
            continue
        tool = words[0].rsplit("/", 1)[-1]
        if tool in _TASKS and len(words) > 1 and not words[1].startswith("-"):
            found.append(f"{tool} {words[1]}")
        elif tool not in _NOT_A_CHECK:
            found.append(tool)
    return _words(found)


def _repo_tool(url: str) -> str:
    """The tool a hook repository packages: astral-sh/ruff-pre-commit -> ruff."""
    name = url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
    for affix in ("-pre-commit", "pre-commit-", "mirrors-"):
        name = name.replace(affix, "")
    return "" if name in ("local", "meta", "hooks") else name


def _words(words: Iterable[str]) -> tuple[str, ...]:
    """Distinct, lower-cased, at least three characters (shorter ones match by accident)."""
    out: dict[str, None] = {}
    for word in words:
        if len(word) >= 3:
            out.setdefault(word.lower(), None)
    return tuple(out)


# --- lessons adopted from the inventory -------------------------------------------------


def adopted_by(items: Sequence[InventoryItem], lessons: Sequence[Lesson]) -> dict[str, str]:
    """Inventory location -> id of the lesson that holds that prose rule.

    Same `source` (FILE:LINE) first; else an adopted lesson with the same title, so a
    rule whose line moved, or the same rule copied into CLAUDE.md, is not adopted twice.
    """
    by_source = {x.source: x.id for x in lessons if x.source}
    by_title = {_norm(x.title): x.id for x in lessons if ADOPTED_TAG in x.tags}
    out = {}
    for item in items:
        if item.kind != PROSE:
            continue
        lesson = by_source.get(item.location) or by_title.get(_norm(item.text))
        if lesson:
            out[item.location] = lesson
    return out


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()
