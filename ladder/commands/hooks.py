"""`ladder hooks install|status|uninstall`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ladder.project import Project


def install(project: Project, agents: Sequence[str] = (), *, stage: bool = True) -> int:
    from ladder import git
    from ladder.commands.init import stage_written
    from ladder.hooks import precommit

    before = git.unstaged_paths(project.root)
    changed = precommit.ensure_config(project)
    precommit.install(project)
    print(
        f"ladder: {'added the ladder hook to' if changed else 'kept'} {precommit.CONFIG}; "
        "git hooks installed (pre-commit, pre-push)"
    )
    written = [project.root / precommit.CONFIG] if changed else []
    written += install_agents(project, agents)
    stage_written(project, written, before, stage=stage)
    return 0


def install_agents(project: Project, agents: Sequence[str]) -> list[Path]:
    """Merge ladder's entries into each agent's configuration (`--agent`, repeatable);
    the files changed."""
    from ladder.agents.registry import get_agent

    changed: list[Path] = []
    for name in dict.fromkeys(agents):
        agent = get_agent(name)
        wrote = agent.install(project)
        if wrote:
            changed.append(project.root / agent.path)
        print(f"ladder: {'wrote' if wrote else 'kept'} {agent.path} ({name})")
    return changed


def status(project: Project, agents: Sequence[str] = ()) -> int:
    from ladder.hooks import precommit

    st = precommit.status(project)
    print(
        f"{precommit.CONFIG}: {'has the ladder hook' if st.config_has_hook else 'no ladder hook'}"
        f" (language: {st.language})"
    )
    for hook_type, ok in sorted(st.installed.items()):
        print(f"git {hook_type} hook: {'installed' if ok else 'NOT installed'}")
    for line in st.outdated:  # ladder never rewrites the user's entry: it says what to set
        print(f"{precommit.CONFIG}: the ladder-check hook is from an older ladder; set {line}")
    healthy = st.config_has_hook and all(st.installed.values())
    agents_ok = agent_status(project, agents)
    if not healthy or not agents_ok:
        flags = "".join(f" --agent {a}" for a in dict.fromkeys(agents))
        print(f"run `ladder hooks install{flags}` to fix")
    return 0 if healthy and agents_ok else 1


def agent_status(project: Project, wanted: Sequence[str]) -> bool:
    """Print each agent integration present (or asked for); False when an asked one is missing."""
    from ladder.agents.registry import AGENTS, get_agent

    for name in wanted:
        get_agent(name)  # an unknown name is bad input, not "missing"
    ok = True
    for name, agent in AGENTS.items():
        st = agent.status(project)
        if not st.installed and name not in wanted and not (project.root / agent.path).exists():
            continue  # this agent is not used here
        print(f"agent {name}: {st.path}: {'installed' if st.installed else 'NOT installed'} ({st.detail})")
        ok = ok and (st.installed or name not in wanted)
    return ok


def uninstall(project: Project) -> int:
    from ladder.hooks import precommit

    precommit.uninstall(project)
    print("ladder: git hooks removed (the config entry stays for teammates)")
    return 0
