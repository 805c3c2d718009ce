"""aider: `.aider.conf.yml` with `lint-cmd: ladder check` and `read:` the rules file.

aider lints every file it edits with `lint-cmd` (the file names are appended) and, on
a non-zero exit, shows the output to the model and asks it to fix the code: the
level-5 lessons become aider's lint, after the edit is written but before aider
commits it. `read:` adds AGENTS.md (where level 2 writes the rules) to every chat as
read-only context.

A `lint-cmd` without a `language:` prefix replaces aider's built-in linters for every
language; an existing one without a prefix is kept, and the later entry wins (aider's
rule), so ladder's entry is appended after the user's and says so.

The file is merged as text when ladder's keys are absent (comments kept); otherwise it
is rewritten from its parsed YAML, which drops comments, and says so on stderr.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from ladder.agents.base import GUARD, AgentStatus
from ladder.errors import LadderError

if TYPE_CHECKING:
    from ladder.project import Project

CONFIG = ".aider.conf.yml"
LINT_CMD = "ladder check"
_KEYS = ("lint-cmd", "read")


def _parse(text: str) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        raise LadderError(f"not valid YAML: {str(exc).splitlines()[0]}", where=CONFIG, todo="fix the file") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise LadderError("expected a mapping of aider options", where=CONFIG, todo="fix the file")
    return data


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _has_lint(data: dict[str, Any]) -> bool:
    return any(LINT_CMD in str(v) for v in _as_list(data.get("lint-cmd")))


def _wanted(data: dict[str, Any], rules: str) -> dict[str, list[Any]]:
    """The values of ladder's keys once merged (user entries first, ours appended)."""
    lint = _as_list(data.get("lint-cmd"))
    read = _as_list(data.get("read"))
    return {
        "lint-cmd": lint if _has_lint(data) else [*lint, LINT_CMD],
        "read": read if rules in read else [*read, rules],
    }


def merged(text: str, rules: str) -> str | None:
    """`text` with ladder's entries; None when nothing changes."""
    import yaml

    data = _parse(text)
    want = _wanted(data, rules)
    if all(_as_list(data.get(k)) == want[k] for k in _KEYS):
        return None
    if not any(k in data for k in _KEYS):
        block = "\n# added by `ladder hooks install --agent aider`: level-5 lessons lint every edit\n"
        block += f"lint-cmd:\n  - {LINT_CMD}\nread:\n  - {rules}\n"
        new = (text if text.endswith("\n") or not text else text + "\n") + block
        if _parse(new) == {**data, **want}:
            return new.lstrip("\n")
    if any(isinstance(v, str) and ":" not in v.split()[0] for v in _as_list(data.get("lint-cmd"))):
        print(f"ladder: note: {CONFIG} already has a lint-cmd for all languages; aider uses the "
              f"last one, `{LINT_CMD}`", file=sys.stderr)
    print(f"ladder: note: {CONFIG} was rewritten from its parsed YAML; its comments are gone",
          file=sys.stderr)
    return str(yaml.safe_dump({**data, **want}, sort_keys=False, default_flow_style=False))


class Aider:
    name: str = "aider"
    path: str = CONFIG
    # A lint after the edit is written, fed back to the model before aider commits:
    # enforced inside the agent, though not before the file changes.
    surface: str = GUARD

    def install(self, project: Project) -> bool:
        from ladder.levels._files import read_exact
        from ladder.store import atomic_write

        path = project.root / CONFIG
        new = merged(read_exact(path) or "", project.config.agent_files[0])
        if new is None:
            return False
        atomic_write(path, new)
        return True

    def status(self, project: Project) -> AgentStatus:
        from ladder.levels._files import read_exact

        text = read_exact(project.root / CONFIG)
        data = _parse(text) if text is not None else {}
        rules = project.config.agent_files[0]
        lint, read = _has_lint(data), rules in _as_list(data.get("read"))
        ok = lint and read
        detail = f"lint-cmd `{LINT_CMD}`: {'yes' if lint else 'no'}; read {rules}: {'yes' if read else 'no'}"
        return AgentStatus(self.name, CONFIG, ok, detail)


AGENT = Aider()
