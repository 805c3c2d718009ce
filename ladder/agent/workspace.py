"""One run's git workspace: candidate worktrees, commits through the hooks, refs and notes.

Every candidate is a real commit made with plain `git commit` in a linked worktree
(`.ladder/runs/<run>/worktrees/<slot>`), so the repository's installed hooks -- and with
them every level-5 lesson -- decide whether it may exist at all. A refused commit leaves
nothing behind but its output and the ids of the lessons that refused it.

The hooks are the first line, not the only one. `verify_commit` re-runs the level-5
rules itself, with the lessons of the *main* work tree (the run's baseline: a candidate
must not be able to weaken the lessons that judge it), and checks that every protected
(non-editable) file is byte-identical to the baseline commit -- so a `--no-verify`
commit, or a hook uninstalled mid-run, gains nothing.

Nothing is lost: each candidate stays reachable under `refs/ladder/<run>/<iteration>`
with its verdict as a git note (`refs/notes/ladder`), and the branch `ladder/<run>`
advances only to kept commits.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence, Set
from pathlib import Path, PurePosixPath
from typing import Any

from ladder.agent.evaluate import ladders_secrets, run_command, scrub, tail
from ladder.agent.records import CommitOutcome, Damage, Proposal, Verdict
from ladder.errors import LadderError
from ladder.globs import matches
from ladder.lesson import Lesson
from ladder.project import Config
from ladder.sandbox import SANDBOXES, Confinement, git_pointer, special_files

AGENT_NAME = "ladder agent"
AGENT_EMAIL = "agent@ladder.invalid"
NOTES_REF = "refs/notes/ladder"
RUNS_DIR = ".ladder/runs"

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
# Variables that would point git at another repository or index than the worktree's.
_GIT_LOCAL = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY",
              "GIT_COMMON_DIR", "GIT_PREFIX", "GIT_NAMESPACE")
# `SKIP=ladder-check` makes pre-commit skip our hook: never inherit it into agent commits.
_HOOK_BYPASS = ("SKIP", "PRE_COMMIT_ALLOW_NO_CONFIG")
FINDINGS_ENV = "LADDER_FINDINGS_FILE"  # where `ladder check --hook` appends its blocking findings


def _check_name(value: str, what: str) -> None:
    if not _NAME.match(value) or ".." in value or value.endswith(".lock"):
        raise LadderError(
            f"invalid {what} name {value!r}",
            todo="use letters, digits, '.', '_' and '-' (it becomes a git ref and a directory)",
        )


def blocked_ids(findings_file: Path) -> tuple[str, ...]:
    """The lessons whose findings blocked a commit, from the JSON lines `ladder check
    --hook` appends to $LADDER_FINDINGS_FILE (data, not its human output). No file: ladder
    blocked nothing (its fast path found nothing to check, or another hook refused)."""
    try:
        lines = findings_file.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return ()
    ids: dict[str, None] = {}
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a line cut by a crash: the rest still count
        if isinstance(record, dict):
            ids.update(dict.fromkeys(str(x) for x in record.get("blocked", []) if isinstance(x, str)))
    return tuple(ids)


def refusal_words(findings_file: Path) -> str:
    """The first blocking finding ladder's hook appended to $LADDER_FINDINGS_FILE, in
    words (`lesson: path:line: message`, "+N more" when there were more); "" for none."""
    from ladder.agent.console import finding_words

    try:
        lines = findings_file.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return ""
    found: dict[str, dict[str, Any]] = {}  # pre-commit may run the hook more than once
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            found.update((json.dumps(f, sort_keys=True), f)
                         for f in record.get("findings") or [] if isinstance(f, dict))
    if not found:
        return ""
    first, *rest = found.values()
    return finding_words(first) + (f" (+{len(rest)} more)" if rest else "")


def git_env(*, agent: bool = False) -> dict[str, str]:
    """This process's environment, cleaned for git commands run in a worktree."""
    env = {k: v for k, v in os.environ.items() if k not in _GIT_LOCAL}
    if agent:
        for key in _HOOK_BYPASS:
            env.pop(key, None)
        for role in ("AUTHOR", "COMMITTER"):
            env[f"GIT_{role}_NAME"] = AGENT_NAME
            env[f"GIT_{role}_EMAIL"] = AGENT_EMAIL
        # The installed hooks call `ladder` and `pre-commit` by name; when ladder runs
        # from a virtual environment that is not activated, they must still resolve.
        scripts = str(Path(sys.executable).parent)
        env["PATH"] = os.pathsep.join([scripts, env.get("PATH", "")])
        env["LADDER_AGENT"] = "1"  # agent-only protect lessons judge this commit
    return env


def _git(
    cwd: Path, *args: str, env: Mapping[str, str] | None = None, check: bool = True,
    hooks: str | None = None,
) -> subprocess.CompletedProcess[str]:
    # `-c` outranks every config file and GIT_CONFIG_* variable: a proposer's
    # `git config core.hooksPath /dev/null` changes nothing for the loop's commands.
    pinned = ("-c", f"core.hooksPath={hooks}") if hooks else ()
    # core.fsmonitor names a program git runs: never one a checkout's config chose.
    proc = subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "-c", "core.fsmonitor=false", *pinned, *args],
        cwd=cwd,
        env=dict(env) if env is not None else git_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if check and proc.returncode != 0:
        said = (proc.stderr or proc.stdout).strip()
        lock = _LOCK_FILE.search(said)
        if lock:  # one clear line naming the file, not git's paragraph
            raise LadderError(
                f"git could not take its lock: {lock.group(1)} exists",
                where=str(cwd),
                todo="another git process holds it, or one was killed: when no git runs "
                     "here, remove the file and rerun",
            )
        lines = said.splitlines()
        # A note's text or a commit message can be kilobytes: not in a one-line error.
        shown = " ".join(a if len(a) <= 60 else a[:57] + "..." for a in args)
        raise LadderError(
            f"`git {shown}` failed: {lines[-1] if lines else proc.returncode}",
            where=str(cwd),
        )
    return proc


_LOCK_FILE = re.compile(r"Unable to create '([^']+\.lock)': File exists")


def _safe_path(base: Path, name: str) -> str | None:
    """The canonical repo-relative form of `name`, or None when it leaves `base`."""
    if not name or "\\" in name or "\0" in name or PurePosixPath(name).is_absolute():
        return None
    parts = PurePosixPath(name).parts
    if ".." in parts or ".git" in parts:
        return None
    rel = PurePosixPath(*parts).as_posix()
    try:
        # resolve() follows symlinks already in the tree: `train.py -> ../x` escapes too.
        (base / rel).resolve().relative_to(base)
    except ValueError:
        return None
    return rel


# Besides what holds enforcement (agents.base.holds_enforcement): git's per-path
# programs (a filter or diff driver named in .gitattributes runs in ladder's own git),
# submodules, and the instructions future agents read.
_NEVER_PROPOSED_NAMES = frozenset({".gitattributes", ".gitmodules", "AGENTS.md", "CLAUDE.md",
                                   "LESSONS.md"})


def check_modules(lessons: Sequence[Lesson]) -> set[str]:
    """The files lessons' rules read as their own code: a `pattern` rule's semgrep
    `config` file, and what a `custom` check imports by name -- its module and each
    package's `__init__.py` on the way (`checks.guard:X` -> checks/guard.py,
    checks/guard/__init__.py, checks/__init__.py)."""
    out: set[str] = set()
    for lesson in lessons:
        if lesson.rule is not None and isinstance(lesson.rule.args.get("config"), str):
            out.add(str(PurePosixPath(lesson.rule.args["config"])))
        if lesson.rule is None or lesson.rule.template != "custom":
            continue
        module = str(lesson.rule.args.get("check", "")).partition(":")[0]
        parts = [p for p in module.split(".") if p]
        for i in range(1, len(parts) + 1):
            out.add("/".join(parts[:i]) + "/__init__.py")
        if parts:
            out.add("/".join(parts) + ".py")
    return out


def never_proposed(rel: str) -> bool:
    """A path no proposal may write, even under a broad `editable` glob (`**`, `*.yaml`):
    the hooks ladder's own commit runs (outside any sandbox) would obey it."""
    from ladder.agents.base import holds_enforcement

    return holds_enforcement(rel) or PurePosixPath(rel).name in _NEVER_PROPOSED_NAMES


def apply_proposal(tree: Path, proposal: Proposal, editable: Sequence[str],
                   rules_code: Set[str] = frozenset()) -> str | None:
    """Write `proposal` into `tree`; or return why not (and write nothing): it escapes
    the tree, touches where enforcement lives or a lesson rule's own code (`rules_code`,
    check_modules), touches a non-editable path, or changes no file."""
    base = Path(tree).resolve()
    named = [*proposal.files, *proposal.deleted]
    if not named:
        return "empty proposal: it names no file"
    canon: dict[str, str] = {}
    for name in named:
        rel = _safe_path(base, name)
        if rel is None:
            return f"{name!r} is outside the worktree"
        canon[name] = rel
    for rel in canon.values():
        if rel in rules_code:
            return f"{rel} is the code of a lesson's rule: never a proposal's"
        if never_proposed(rel):
            return (f"{rel} is where enforcement or agents' instructions live: never a "
                    "proposal's, whatever `editable` says")
        if not matches(rel, editable):
            return f"{rel} is not editable (editable: {', '.join(editable) or 'nothing'})"
    both = set(proposal.files) & set(proposal.deleted)
    if both:
        return f"{sorted(both)[0]} is both written and deleted"
    writes: dict[Path, bytes] = {}
    for name, text in proposal.files.items():
        target = base / canon[name]
        if target.is_dir():
            return f"{canon[name]} is a directory"
        data = text.encode("utf-8", errors="surrogateescape")
        if not target.is_file() or target.read_bytes() != data:
            writes[target] = data
    deletes = [base / canon[n] for n in proposal.deleted if (base / canon[n]).is_file()]
    if not writes and not deletes:
        return "empty proposal: no file changes"
    for target, data in writes.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)  # in place: keeps the file's mode (an executable script)
    for target in deletes:
        target.unlink()
    return None


class Workspace:
    """The git side of one run in the repository at `root` (the main work tree).

    `editable`: the globs of files candidates may change; everything else must stay
    byte-identical to `baseline` (checked by `verify_commit`, used by `crossover`).
    """

    def __init__(
        self, root: Path, run: str, baseline: str, *, editable: Sequence[str] = ()
    ) -> None:
        _check_name(run, "run")
        self.root = Path(root).resolve()
        self.run = run
        # The hooks directory as it is now, pinned for every git command of the run, and
        # the object store (the confined hooks' alternate): looked up once, not per commit.
        self.hooks = _git(self.root, "rev-parse", "--path-format=absolute", "--git-path",
                          "hooks").stdout.strip()
        self._objects = _git(self.root, "rev-parse", "--path-format=absolute", "--git-path",
                             "objects").stdout.strip()
        self.baseline = self.rev(baseline)
        self.editable = tuple(editable)
        self._lessons: list[Lesson] | None = None
        # The sandbox the hooks of ladder's own commits run in (the loop sets it): they
        # run the user's tools -- a test suite importing the candidate's code, a type
        # checker loading a plugin a proposal wrote -- on what a proposer wrote.
        self.sandbox = "none"

    def _g(self, cwd: Path, *args: str, env: Mapping[str, str] | None = None,
           check: bool = True) -> subprocess.CompletedProcess[str]:
        """git with this run's pinned hooks path."""
        return _git(cwd, *args, env=env, check=check, hooks=self.hooks or None)

    # --- names ----------------------------------------------------------------------

    @property
    def run_dir(self) -> Path:
        return self.root / RUNS_DIR / self.run

    @property
    def worktrees_dir(self) -> Path:
        return self.run_dir / "worktrees"

    @property
    def branch(self) -> str:
        return f"ladder/{self.run}"

    def candidate_ref(self, iteration: int) -> str:
        return f"refs/ladder/{self.run}/{iteration}"

    def rev(self, commitish: str) -> str:
        """The full sha of `commitish` (a LadderError naming it when unknown)."""
        proc = self._g(self.root, "rev-parse", "--verify", "-q", f"{commitish}^{{commit}}", check=False)
        if proc.returncode != 0:
            raise LadderError(f"no commit {commitish!r}", where=str(self.root))
        return proc.stdout.strip()

    # --- the run's branch -------------------------------------------------------------

    def start(self) -> str:
        """Create branch `ladder/<run>` at the baseline unless it exists (a resumed run);
        return its tip. Also makes sure git ignores the run's directory."""
        self._ensure_ignored()
        ref = f"refs/heads/{self.branch}"
        tip = self._g(self.root, "rev-parse", "--verify", "-q", ref, check=False).stdout.strip()
        if not tip:
            self._g(self.root, "update-ref", "-m", "ladder: run started", ref, self.baseline, "")
            tip = self.baseline
        return tip

    def tip(self) -> str:
        """Where `ladder/<run>` points: the verified best so far."""
        return self.rev(f"refs/heads/{self.branch}")

    branch_tip = tip  # the Worktrees Protocol's name for it

    def advance(self, sha: str) -> None:
        """Move `ladder/<run>` to the kept commit `sha`."""
        self._g(self.root, "update-ref", "-m", "ladder: keep", f"refs/heads/{self.branch}", sha)

    def _ensure_ignored(self) -> None:
        """Worktrees live inside the main work tree; `ladder init` ignores `.ladder/runs/`
        (its `.ladder/.gitignore`). Without it, add a local exclude rather than let
        `git add -A` in the main tree pick up nested repositories."""
        probe = f"{RUNS_DIR}/{self.run}/worktrees/"
        if self._g(self.root, "check-ignore", "-q", probe, check=False).returncode == 0:
            return
        common = self._g(self.root, "rev-parse", "--git-common-dir").stdout.strip()
        exclude = (self.root / common / "info" / "exclude").resolve()
        exclude.parent.mkdir(parents=True, exist_ok=True)
        with exclude.open("a", encoding="utf-8") as fh:
            fh.write(f"\n# ladder agent runs (worktrees)\n/{RUNS_DIR}/\n")

    # --- worktrees ------------------------------------------------------------------

    def checkout(self, slot: str, commit: str) -> Path:
        """The worktree of `slot`, checked out (detached, clean) at `commit`.

        Created once with `git worktree add`; later calls reuse it with a forced
        checkout and `git clean -fdx`, which is several times cheaper than a new
        worktree (see the module's tests for the measurement).
        """
        _check_name(slot, "slot")
        path = self.worktrees_dir / slot
        if (path / ".git").is_file():
            try:
                self._g(path, "checkout", "-q", "--detach", "-f", commit)
                self._clean(path)
                return path
            except LadderError:
                pass  # a broken worktree (e.g. killed mid-creation): make it again
        if path.exists():
            shutil.rmtree(path)
        self._g(self.root, "worktree", "prune")
        path.parent.mkdir(parents=True, exist_ok=True)
        self._g(self.root, "worktree", "add", "-q", "--detach", "-f", str(path), commit)
        return path

    def _clean(self, tree: Path) -> None:
        # Everything untracked goes, ignored files and ladder's own caches included:
        # a proposer or a candidate wrote this tree, and the hook run by ladder's commit
        # there (outside any sandbox) would read a planted hook index or lesson cache,
        # or import a planted `pre_commit` module from its working directory.
        self._g(tree, "clean", "-q", "-ffdx")  # -ff: a nested repository goes too
        for path in list(special_files(tree)):  # git sees no FIFO, socket or device
            path.unlink()

    def _reset(self, tree: Path, to: str = "HEAD") -> None:
        self._g(tree, "reset", "-q", "--hard", to)
        self._clean(tree)

    def cleanup(self) -> None:
        """Remove this run's worktrees (refs, notes and the branch stay)."""
        if self.worktrees_dir.is_dir():
            for path in sorted(self.worktrees_dir.iterdir()):
                self._g(self.root, "worktree", "remove", "--force", str(path), check=False)
                if path.exists():
                    shutil.rmtree(path, ignore_errors=True)
            shutil.rmtree(self.worktrees_dir, ignore_errors=True)
        self._g(self.root, "worktree", "prune")

    # --- a proposal becomes a commit ----------------------------------------------------

    def apply(self, tree: Path, proposal: Proposal, editable: Sequence[str]) -> str | None:
        """Write the proposal into `tree`, a clean checkout of its HEAD first (whatever
        the proposer left beside its proposal is gone before ladder's commit runs the
        hooks there); or return why not (and write nothing). The code of the lessons'
        `custom` checks is never a proposal's: the hook and the loop import it."""
        code = check_modules(self.lessons())
        if Path(tree).resolve().is_relative_to(self.worktrees_dir.resolve()):
            self._reset(tree)
        return apply_proposal(tree, proposal, editable, rules_code=code)

    def commit(self, tree: Path, message: str, *, reset: bool = True) -> CommitOutcome:
        """`git add -A` and a plain `git commit`, so the installed hooks judge it.

        On refusal the tree is reset to its HEAD and the blocking lessons are read from
        the findings file ladder's hook writes (empty when another hook, or git itself,
        refused).
        """
        import tempfile

        with tempfile.TemporaryDirectory(prefix="ladder-findings-") as scratch:
            findings = Path(scratch) / "findings.jsonl"
            env = {**git_env(agent=True), FINDINGS_ENV: str(findings)}
            self._g(tree, "add", "-A", env=env)
            hooks = self._confined_hooks(Path(tree), Path(scratch), env)
            proc = _git(tree, "commit", "-q", "-m", message, env=env, check=False,
                        hooks=hooks or self.hooks or None)
            blocked = blocked_ids(findings) if proc.returncode != 0 else ()
            reason = refusal_words(findings) if proc.returncode != 0 else ""
        output = (proc.stdout + proc.stderr).strip()
        if proc.returncode == 0:
            sha = self._g(tree, "rev-parse", "HEAD").stdout.strip()
            return CommitOutcome(True, sha, (), output)
        if reset:  # not for `ladder try`: the refused change is the user's work in progress
            self._reset(tree)
        else:
            self._g(tree, "reset", "-q", env=env)  # unstage, keep the files as they are
        return CommitOutcome(False, "", blocked, output, reason)

    def _confined_hooks(self, tree: Path, scratch: Path, env: dict[str, str]) -> str:
        """A hooks directory whose every hook runs the run's own hook of that name in the
        sandbox: the checkout and a scratch directory writable, git's files read-only
        (git itself, outside, writes the commit), no network. "" without a sandbox or
        outside ladder's worktrees (`ladder try` commits the user's own tree)."""
        real = Path(self.hooks) if self.hooks else None
        if (self.sandbox == "none" or real is None or not real.is_dir()
                or not tree.resolve().is_relative_to(self.worktrees_dir.resolve())):
            return ""
        tmp = scratch / "tmp"
        tmp.mkdir()
        env["TMPDIR"] = str(tmp)
        confinement = Confinement((tree, scratch), ladders_secrets(), cwd=tree,
                                  readonly=git_pointer(tree))
        wrappers = scratch / "hooks"
        wrappers.mkdir()
        # The hooks' own git writes objects (pre-commit's `git write-tree`): into a
        # scratch store, reading the repository's through an alternate -- never into it.
        objects = scratch / "objects"
        objects.mkdir()
        # ... and read the index through a copy (git-write-tree takes the index's lock).
        index = shlex.quote(str(scratch / "index"))
        store = (f"export GIT_OBJECT_DIRECTORY={shlex.quote(str(objects))} "
                 f"GIT_ALTERNATE_OBJECT_DIRECTORIES={shlex.quote(self._objects)}\n"
                 f'cp "${{GIT_INDEX_FILE:-$(git rev-parse --git-path index)}}" {index} '
                 f"&& export GIT_INDEX_FILE={index}\n")
        for hook in real.iterdir():
            if hook.name.endswith(".sample") or not os.access(hook, os.X_OK):
                continue
            argv = SANDBOXES[self.sandbox].wrap([str(hook)], confinement)
            script = wrappers / hook.name
            script.write_text("#!/bin/sh\n" + store + "exec "
                              + " ".join(shlex.quote(a) for a in argv) + ' "$@"\n',
                              encoding="utf-8")
            script.chmod(0o755)
        return str(wrappers)

    # --- defence in depth ------------------------------------------------------------

    def watch(self, protected: Sequence[Path], strict: Sequence[Path] = ()) -> Any:
        """Fingerprint what a proposal or an evaluation must not touch (ladder.agent.tamper);
        `strict` checkouts must not gain an untracked file either."""
        from ladder.agent import tamper

        return tamper.take(self.root, protected, self.run, strict)

    def check_watch(self, before: Any) -> Damage:
        """What changed since `before`, rolled back (ladder.agent.tamper)."""
        from ladder.agent import tamper

        after = tamper.again(self.root, before)
        changed = tamper.compare(before, after)
        if not changed:
            return Damage()
        notes, stuck = tamper.rollback(self.root, before, after)
        return Damage(tuple(changed), tuple(notes), tuple(stuck))

    def lessons(self) -> list[Lesson]:
        """The active level-5 lessons, pinned: those of the baseline commit (git objects,
        never a working tree a proposer can write), plus the ones this run taught."""
        if self._lessons is None:
            found = {x.id: x for x in self._baseline_lessons()}
            for lesson in self._taught_lessons():
                found.setdefault(lesson.id, lesson)  # a baseline lesson is never replaced
            self._lessons = [x for x in found.values()
                             if x.status == "active" and x.level == 5 and x.rule]
        return self._lessons

    def refresh_lessons(self) -> None:
        """Re-read the lessons this run taught: the next check enforces them too."""
        self._lessons = None

    def _baseline_lessons(self) -> list[Lesson]:
        from ladder import _toml
        from ladder.lesson import lesson_from_dict
        from ladder.store import LESSONS_REL

        names = self._g(self.root, "ls-tree", "-r", "-z", "--name-only", self.baseline, "--",
                        f"{LESSONS_REL}/").stdout.split("\0")
        out: list[Lesson] = []
        for name in sorted(n for n in names if n.endswith(".toml") and n.count("/") == 2):
            text = self.show(self.baseline, name)
            if text is not None:
                where = f"{name} at {self.baseline[:12]}"
                out.append(lesson_from_dict(_toml.loads(text, where), where,
                                            stem=name.rsplit("/", 1)[-1][:-5]))
        return out

    def _taught_lessons(self) -> list[Lesson]:
        from ladder.agent.skills.failures import taught_by
        from ladder.project import Project
        from ladder.store import load_lessons

        project = Project(self.root)
        if not project.initialized:
            return []
        try:
            return [x for x in load_lessons(project, use_cache=False) if taught_by(x) == self.run]
        except LadderError:
            return []  # a broken lesson file in the tree: the pinned ones still hold

    def exclude(self) -> tuple[str, ...]:
        """The `exclude` globs of the baseline's configuration (pinned like the lessons)."""
        return self._baseline_config.exclude

    @functools.cached_property
    def _baseline_config(self) -> Config:
        """`[tool.ladder]` as the baseline has it: what the candidate's commit is checked
        under cannot be changed by the candidate."""
        from ladder import _toml
        from ladder.project import parse_config

        own = self.show(self.baseline, ".ladder/config.toml")
        pyproject = self.show(self.baseline, "pyproject.toml")
        if own is not None:
            return parse_config(_toml.loads(own, ".ladder/config.toml"), ".ladder/config.toml")
        if pyproject is not None:
            table = _toml.loads(pyproject, "pyproject.toml").get("tool", {}).get("ladder", {})
            if isinstance(table, dict):
                return parse_config(table, "pyproject.toml:[tool.ladder]")
        return Config()

    def show(self, commit: str, path: str) -> str | None:
        """The text of `path` at `commit`, or None when it does not exist there."""
        proc = self._g(self.root, "show", f"{commit}:{path}", check=False)
        return proc.stdout if proc.returncode == 0 else None

    def verify_commit(self, tree: Path, sha: str, parent: str) -> list[str]:
        """Why commit `sha` (child of `parent`) must not be evaluated; [] when it is fine.

        Re-runs the level-5 rules on the files it changed (diff-aware rules see its
        changes) and requires every non-editable file to match the baseline byte for byte.
        """
        from ladder import git
        from ladder.rules.base import CheckRequest
        from ladder.rules.runner import check

        tree = Path(tree).resolve()
        lessons = self.lessons()
        code = check_modules(lessons)
        reasons = [
            f"{path} is protected but differs from the baseline {self.baseline[:12]}"
            for path in self.changed_since_baseline(sha)
            if not matches(path, self.editable) or never_proposed(path) or path in code
        ]
        if not lessons:
            return reasons
        if self._g(tree, "rev-parse", "HEAD").stdout.strip() != self.rev(sha):
            self._g(tree, "checkout", "-q", "--detach", "-f", sha)
        changes = git.changes_between(tree, parent, sha)
        files = [c.path for c in changes if c.status != "D" and (tree / c.path).is_file()]
        request = CheckRequest(root=tree, files=files, changes=changes, agent=True,
                               code_root=self.root,
                               max_parse_bytes=self._baseline_config.max_parse_bytes)
        try:
            findings = check(request, lessons, exclude=self.exclude())
        except LadderError as exc:  # a crashing rule fails closed
            return [*reasons, f"level-5 check crashed: {exc.line()}"]
        reasons += [f"{f.location()}: [{f.lesson}] {f.message}" for f in findings]
        return reasons

    def changed_since_baseline(self, sha: str) -> list[str]:
        """Every path that differs between the baseline and `sha` (both sides of renames)."""
        out = self._g(self.root, "diff", "--name-only", "--no-renames", "-z", self.baseline, sha).stdout
        return [p for p in out.split("\0") if p]

    def run_gates(
        self,
        tree: Path,
        gates: Sequence[str],
        timeout: float,
        env: Mapping[str, str] | None = None,
        *,
        sandbox: str = "none",
        hidden: tuple[Path, ...] = (),
    ) -> tuple[bool, str]:
        """Run the gate commands in order (cheapest first), stopping at the first failure:
        (False, its command, reason and output tail), or (True, "") when all pass.

        A gate runs the candidate's code (its tests): in a sandbox it writes only its
        checkout and a temporary directory of its own, like an evaluation."""
        run_env = dict(env) if env is not None else scrub(os.environ)
        with tempfile.TemporaryDirectory(prefix="ladder-gate-") as tmp:
            box = SANDBOXES[sandbox]
            if box.name != "none":
                run_env["TMPDIR"] = tmp
            confinement = Confinement((Path(tree), Path(tmp)), hidden, cwd=Path(tree),
                                      readonly=git_pointer(Path(tree)))
            for gate in gates:
                command = gate if box.name == "none" else box.wrap(["/bin/sh", "-c", gate], confinement)
                done = run_command(command, Path(tree), run_env, timeout)
                if done.returncode != 0:
                    break
            else:
                return True, ""
        why = f"timeout after {timeout:g} s" if done.returncode is None else f"exit code {done.returncode}"
        return False, f"gate `{gate}` failed ({why}):\n{tail(done.output)}"

    # --- the audit trail in git --------------------------------------------------------

    def record(self, sha: str, iteration: int, verdict: Verdict) -> None:
        """Keep candidate `sha` reachable as `refs/ladder/<run>/<iteration>` and attach its
        verdict as a JSON git note (notes ref `refs/notes/ladder`)."""
        env = git_env(agent=True)
        self._g(self.root, "update-ref", self.candidate_ref(iteration), sha, env=env)
        note: dict[str, Any] = {
            "run": self.run,
            "iteration": iteration,
            "status": verdict.status,
            "reasons": list(verdict.reasons),
            "stats": dict(verdict.stats),
        }
        text = json.dumps(note, sort_keys=True, default=str)
        self._g(self.root, "notes", f"--ref={NOTES_REF}", "add", "-f", "-m", text, sha, env=env)

    def note(self, sha: str) -> dict[str, Any] | None:
        """The verdict note on `sha`, or None."""
        proc = self._g(self.root, "notes", f"--ref={NOTES_REF}", "show", sha, check=False)
        if proc.returncode != 0:
            return None
        data = json.loads(proc.stdout)
        return data if isinstance(data, dict) else None

    def noted(self) -> set[str]:
        """The commits that carry a verdict note (one git call, not one per commit)."""
        out = self._g(self.root, "notes", f"--ref={NOTES_REF}", "list", check=False).stdout
        return {line.split()[1] for line in out.splitlines() if len(line.split()) == 2}

    def recorded(self) -> dict[int, str]:
        """iteration -> candidate sha, from `refs/ladder/<run>/` (what a resume finds)."""
        prefix = f"refs/ladder/{self.run}/"
        out = self._g(self.root, "for-each-ref", "--format=%(refname) %(objectname)", prefix).stdout
        found: dict[int, str] = {}
        for line in out.splitlines():
            ref, sha = line.split(" ", 1)
            tail_name = ref[len(prefix):]
            if tail_name.isdigit():
                found[int(tail_name)] = sha
        return dict(sorted(found.items()))

    # --- crossover --------------------------------------------------------------------

    def crossover(
        self, a: str, b: str, tree: Path, editable: Sequence[str] | None = None
    ) -> dict[str, str] | None:
        """Three-way merge of commit `b` into a checkout of `a` (git picks the merge
        base): the merged text of each editable file that differs from `a`, or None on
        a conflict. Either way the merge is undone and `tree` is left clean at `a`.

        Files the merge deletes are not in the result (a {path: text} has no deletion).
        """
        globs = self.editable if editable is None else tuple(editable)
        tree = Path(tree)
        env = git_env(agent=True)
        self._g(tree, "checkout", "-q", "--detach", "-f", a, env=env)
        self._clean(tree)
        merged = self._g(tree, "merge", "--no-commit", "--no-ff", "-q", b, env=env, check=False)
        try:
            if merged.returncode != 0:
                return None
            out = self._g(tree, "diff", "--cached", "--name-only", "--no-renames", "-z", a).stdout
            result: dict[str, str] = {}
            for path in (p for p in out.split("\0") if p):
                if matches(path, globs) and (tree / path).is_file():
                    data = (tree / path).read_bytes()
                    result[path] = data.decode("utf-8", errors="surrogateescape")
            return result
        finally:
            self._g(tree, "merge", "--abort", env=env, check=False)
            self._reset(tree, a)
