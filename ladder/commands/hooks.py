"""`ladder hooks install|status|uninstall`."""

from __future__ import annotations

from ladder.project import Project


def install(project: Project) -> int:
    from ladder.hooks import precommit

    changed = precommit.ensure_config(project)
    precommit.install(project)
    print(
        f"ladder: {'added the ladder hook to' if changed else 'kept'} {precommit.CONFIG}; "
        "git hooks installed (pre-commit, pre-push)"
    )
    return 0


def status(project: Project) -> int:
    from ladder.hooks import precommit

    st = precommit.status(project)
    print(
        f"{precommit.CONFIG}: {'has the ladder hook' if st.config_has_hook else 'no ladder hook'}"
        f" (language: {st.language})"
    )
    for hook_type, ok in sorted(st.installed.items()):
        print(f"git {hook_type} hook: {'installed' if ok else 'NOT installed'}")
    healthy = st.config_has_hook and all(st.installed.values())
    if not healthy:
        print("run `ladder hooks install` to fix")
    return 0 if healthy else 1


def uninstall(project: Project) -> int:
    from ladder.hooks import precommit

    precommit.uninstall(project)
    print("ladder: git hooks removed (the config entry stays for teammates)")
    return 0
