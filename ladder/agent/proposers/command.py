"""The `command` proposer: any coding-agent CLI (Claude Code, Codex, aider) as a proposer.

The command runs with a shell in the parent's checkout with the prompt in a file
(`{prompt_file}` in `cmd`, and `$LADDER_PROMPT_FILE`). Whatever it changed against the
commit it started from (edits, new files, deletions, even commits of its own) becomes the
proposal, and the checkout is then restored, so the loop applies the proposal itself
through its editable-files check: an agent that edits a protected file is refused there.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from ladder.agent import interrupt
from ladder.agent.config import ProposerSpec
from ladder.agent.evaluate import ladders_secrets
from ladder.agent.proposers.common import (
    changed_symbols,
    check_options,
    editable_files,
    read_files,
    read_text,
)
from ladder.agent.proposers.prompt import EDIT_IN_PLACE_FORMAT, build_prompt
from ladder.agent.records import Proposal, ProposalContext
from ladder.errors import LadderError
from ladder.git import changes_between, run_git
from ladder.sandbox import FAILED as SANDBOX_FAILED
from ladder.sandbox import SANDBOXES, Confinement, git_pointer

OPTIONS = ("cmd", "timeout", "env", "target")
DEFAULT_TIMEOUT = 900.0
PLACEHOLDER = "{prompt_file}"
_WHERE = "[tool.ladder.agent] proposer"


class CommandProposer:
    def __init__(
        self,
        cmd: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        env: Mapping[str, str] | None = None,
        target: str = "the target metric",
    ) -> None:
        self.cmd = cmd
        self.timeout = timeout
        self.env = dict(env or {})
        self.target = target
        self.last_error = ""
        self.last_output = ""  # the tail of the command's output, for the journal

    @classmethod
    def from_spec(cls, spec: ProposerSpec) -> CommandProposer:
        opts = spec.options
        check_options("command", opts, OPTIONS)
        cmd = opts.get("cmd")
        if not isinstance(cmd, str) or not cmd.strip():
            raise LadderError(
                "the command proposer needs a `cmd`",
                where=_WHERE,
                todo='e.g. {kind = "command", cmd = "claude -p \\"$(cat {prompt_file})\\""}',
            )
        timeout = opts.get("timeout", DEFAULT_TIMEOUT)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise LadderError(
                f"proposer `timeout` must be seconds > 0, not {timeout!r}", where=_WHERE
            )
        env = opts.get("env", {})
        if not isinstance(env, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in env.items()
        ):
            raise LadderError("proposer `env` must be a table of strings", where=_WHERE)
        target = opts.get("target", "the target metric")
        return cls(cmd, timeout=float(timeout), env=env, target=str(target))

    @property
    def name(self) -> str:
        return "command"

    def propose(self, ctx: ProposalContext) -> Proposal | None:
        self.last_error = self.last_output = ""
        root = ctx.root
        start = run_git(root, "rev-parse", "HEAD").strip()
        files = read_files(root, editable_files(root, ctx.editable))
        prompt = build_prompt(ctx, files, self.target, answer=EDIT_IN_PLACE_FORMAT)
        with tempfile.TemporaryDirectory(prefix="ladder-prompt-") as tmp:
            prompt_file = Path(tmp) / "prompt.md"
            prompt_file.write_text(prompt, encoding="utf-8")
            try:
                stdout = self._run(root, prompt_file, ctx)
                return None if stdout is None else self._collect(root, start, files, stdout)
            finally:
                restore(root, start)

    def _run(self, root: Path, prompt_file: Path, ctx: ProposalContext) -> str | None:
        """The command's stdout, or None (reason in last_error) when it failed."""
        cmd = self.cmd.replace(PLACEHOLDER, shlex.quote(str(prompt_file)))
        env = {**os.environ, **self.env, "LADDER_PROMPT_FILE": str(prompt_file)}
        argv: str | list[str] = cmd
        if ctx.sandbox != "none":
            # Its checkout and its temporary directory; never git's files (the `.git` file
            # and the worktree's git directory tell ladder's own git where the repository
            # and its config are: a config names programs git runs), the user's tree,
            # other checkouts or ladder's key. So it can read git, not commit: what it
            # changed is collected from its checkout. An agent CLI keeps its state under
            # the home directory: the user adds that to `writable`.
            env["TMPDIR"] = str(prompt_file.parent)
            writable = (root, prompt_file.parent, *ctx.writable)
            argv = SANDBOXES[ctx.sandbox].wrap(
                ["/bin/sh", "-c", cmd],
                Confinement(writable, (*ladders_secrets(), *ctx.hidden), network=True, cwd=root,
                            readonly=git_pointer(root)))
        # Its own session: on timeout the whole process group (agent and children) dies.
        proc = subprocess.Popen(
            argv,
            shell=isinstance(argv, str),
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            start_new_session=True,
        )
        interrupt.register(proc.pid, signal.SIGKILL)  # a SIGTERM to the run stops it at once
        try:
            stdout, stderr = proc.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.communicate(timeout=5)  # a child that left the group may hold the pipes
            self.last_error = f"command timed out after {self.timeout:g} s"
            return None
        finally:
            interrupt.unregister(proc.pid)
        self.last_output = _tail(stdout + stderr)
        if proc.returncode == SANDBOX_FAILED and "ladder sandbox: " in stderr:
            self.last_error = (f"the {ctx.sandbox} sandbox could not be built: "
                               + stderr.split("ladder sandbox: ", 1)[1].strip())
            return None
        if proc.returncode != 0:
            self.last_error = f"command exited {proc.returncode}: {_tail(stderr or stdout, 3)}"
            return None
        return stdout

    def _collect(
        self, root: Path, start: str, before: Mapping[str, str], stdout: str
    ) -> Proposal | None:
        changed: dict[str, str] = {}
        deleted: list[str] = []
        for change in changes_between(root, start):
            if change.status == "D":
                deleted.append(change.path)
                continue
            if change.old_path and change.status == "R":
                deleted.append(change.old_path)
            text = read_text(root, change.path)
            if text is None:
                self.last_error = (f"command left {change.path} as something other than a "
                                   "regular UTF-8 text file in its checkout (binary, a symlink...)")
                return None
            changed[change.path] = text
        if not changed and not deleted:
            self.last_error = "command changed no file"
            return None
        symbols: dict[str, None] = {}
        for path, text in changed.items():
            old = before[path] if path in before else _old_text(root, start, path)
            for name in changed_symbols(old, text):
                symbols[name] = None
        features = {
            "operator": "command",
            "files": sorted([*changed, *deleted]),
            "symbols": list(symbols),
        }
        return Proposal(
            last_line(stdout) or "command proposal",
            changed,
            features,
            proposer="command",
            deleted=tuple(sorted(deleted)),
        )


def restore(root: Path, commit: str) -> None:
    """Put the checkout back at `commit`: the command may have edited, added or committed."""
    run_git(root, "reset", "-q", "--hard", commit)
    run_git(root, "clean", "-fdq")


def _old_text(root: Path, commit: str, path: str) -> str:
    return run_git(root, "show", f"{commit}:{path}", check=False)


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:200] if lines else ""


def _tail(text: str, lines: int = 20) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _kill_group(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
