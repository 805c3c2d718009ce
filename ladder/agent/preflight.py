"""The pre-flight: what `ladder agent run` checks before it spends anything, and what
`ladder agent check` reports on its own (issue 14).

A first run on a new project used to find its problems one budget at a time: files
`ladder init` wrote but nobody committed (the run's worktrees check out HEAD, so the
hooks found no configuration and refused every candidate with "see output"), an
`editable` glob with a typo (baseline and calibration spent, then every proposal
refused), an evaluator the agent was allowed to edit. Each check here returns its
problems as one line each, with the fix; a run with any is refused with exit 2 before
its journal exists.

The checks, cheapest first:
- `repository`: a commit to start from, ladder's files committed, no other change;
- `editable`: every glob matches a committed file, and no file the evaluation or scorer
  command names is editable unless a level-5 `protect` lesson guards it (the demo's
  `editable = ["*.py"]` is fine: its evaluator is protected);
- `budget`: the seeds and the evaluation budget can keep anything (budget.py);
- `hooks`: a trivial commit (a comment appended to an editable file) passes the
  installed hooks in a scratch worktree of HEAD, as the run's commits will;
- `evaluate_once` (`ladder agent check` only, one evaluation spent): the evaluation
  runs on HEAD and gives the target.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import shlex
import shutil
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ladder.agent.config import AgentConfig
from ladder.agent.records import EvalResult
from ladder.errors import LadderError
from ladder.globs import matches
from ladder.project import Project

if TYPE_CHECKING:
    from ladder.agent.workspace import Workspace

# What ladder writes and reads in a repository: a run's worktrees need it committed.
LADDER_FILES = (".ladder", ".pre-commit-config.yaml", "AGENTS.md", "LESSONS.md", "CLAUDE.md",
                "pyproject.toml")
SHOWN = 6  # paths named in one line before "+N more"
# A comment appended to an editable file of these kinds is the pre-flight's trivial change.
_COMMENTS = {".py": "#", ".pyi": "#", ".sh": "#", ".toml": "#", ".yaml": "#", ".yml": "#",
             ".cfg": "#", ".r": "#", ".jl": "#", ".c": "//", ".cc": "//", ".cpp": "//",
             ".cu": "//", ".h": "//", ".js": "//", ".ts": "//", ".go": "//", ".rs": "//",
             ".java": "//"}


@dataclass(frozen=True)
class Problem:
    """One reason a run would waste its budget, and what to do about it."""

    what: str
    fix: str
    where: str = ""

    def line(self) -> str:
        head = f"{self.where}: " if self.where else ""
        return f"{head}{self.what} (fix: {self.fix})"

    @classmethod
    def of(cls, error: LadderError) -> Problem:
        return cls(error.what, error.todo or "see the message", error.where)


@dataclass(frozen=True)
class Check:
    """One pre-flight check: its problems, or what it found when there are none."""

    name: str
    problems: tuple[Problem, ...] = ()
    ok: str = ""


def static_checks(project: Project, config: AgentConfig, *, hooks: bool = True) -> list[Check]:
    """Every check that spends no evaluation; the hooks' trial commit only when all
    the others passed (uncommitted hook configuration would only fail it again)."""
    from ladder.git import has_head

    if not has_head(project.root):
        return [Check("repository", (Problem("the repository has no commit yet", "commit the "
                                             "program first: the run starts from HEAD",
                                             str(project.root)),)), budget(config)]
    checks = [repository(project), editable(project, config), budget(config)]
    if config.executor == "ray":
        checks.append(ray_installed())
    if hooks and not problems_of(checks):
        checks.append(hooks_check(project, config))
    return checks


def problems_of(checks: Sequence[Check]) -> list[Problem]:
    return [p for c in checks for p in c.problems]


def ray_installed() -> Check:
    """`executor = "ray"` with Ray importable (the cluster itself is reached at the run's
    first evaluation: docs/ray.md)."""
    from ladder.agent.executors.ray_cluster import require_ray

    try:
        require_ray()
    except LadderError as exc:
        return Check("executor", (Problem.of(exc),))
    return Check("executor", (), "executor: ray (installed; the cluster is reached at the "
                                 "first evaluation)")


# --- the repository ------------------------------------------------------------------


def _git(project: Project, *args: str) -> str:
    from ladder.git import run_git

    return run_git(project.root, *args)


def _named(paths: Sequence[str]) -> str:
    shown = ", ".join(paths[:SHOWN])
    return shown + (f" (+{len(paths) - SHOWN} more)" if len(paths) > SHOWN else "")


def repository(project: Project) -> Check:
    """Ladder's files committed; no other uncommitted change (there is a HEAD)."""
    from ladder.git import status_paths

    ours = status_paths(_git(project, "status", "--porcelain=v1", "-z", "--untracked-files=all",
                             "--", *LADDER_FILES))
    theirs = [p for p in status_paths(_git(project, "status", "--porcelain=v1", "-z",
                                           "--untracked-files=no"))
              if p not in ours]
    found: list[Problem] = []
    if ours:
        # Many (what `ladder init` wrote): named by their top directory, `.ladder/`.
        named = ours if len(ours) <= SHOWN else list(dict.fromkeys(
            p.split("/", 1)[0] + ("/" if "/" in p else "") for p in ours))
        found.append(Problem(
            f"not committed: {_named(named)}: the run's worktrees check out HEAD, where its "
            "hooks, lessons and configuration would be missing (or an earlier run's learning)",
            "review and commit them: git add -- " + " ".join(shlex.quote(p) for p in named)
            + " && git commit -m 'ladder setup'"))
    if theirs:
        found.append(Problem(f"uncommitted changes in {_named(theirs)}: the run starts from HEAD",
                             "commit or stash them"))
    return Check("repository", tuple(found), "ladder's files and the program are committed")


# --- the editable files ----------------------------------------------------------------


def committed_files(project: Project) -> list[str]:
    return [p for p in _git(project, "ls-tree", "-r", "-z", "--name-only", "HEAD").split("\0") if p]


def editable(project: Project, config: AgentConfig) -> Check:
    """Each glob matches a committed file; no evaluator file is editable unprotected."""
    files = committed_files(project)
    found = [*_unmatched(config.editable, files), *_evaluator(project, config, files)]
    mine = [f for f in files if matches(f, config.editable)]
    return Check("editable", tuple(found),
                 f"editable {', '.join(config.editable)} matches {_named(mine)}")


def _unmatched(globs: Sequence[str], files: Sequence[str]) -> list[Problem]:
    out: list[Problem] = []
    names = sorted({*files, *(f.rsplit("/", 1)[-1] for f in files)})
    for glob in globs:
        if glob.startswith("!") or any(matches(f, [glob]) for f in files):
            continue
        close = difflib.get_close_matches(glob, names, n=1)
        hint = f'did you mean "{close[0]}"?' if close else "list the files the agent may edit"
        out.append(Problem(
            f"editable glob {glob!r} matches no file committed at HEAD: every proposal "
            "would be refused", f"{hint} (a new file must be committed first)",
            "[tool.ladder.agent] editable"))
    return out


def command_files(command: str, files: Sequence[str]) -> list[str]:
    """The committed files a command names: `python evaluate.py`, `bash eval/run.sh`,
    `python -m pkg.score` (pkg/score.py), `--config=eval.yaml`."""
    try:
        words = [w for token in shlex.split(command) for w in token.split()]
    except ValueError:  # unbalanced quotes: the evaluation will say so itself
        words = command.split()
    known = set(files)
    out: dict[str, None] = {}
    for i, word in enumerate(words):
        word = word.split("=", 1)[-1].removeprefix("./")
        candidates = [word]
        if i and words[i - 1] == "-m":
            module = word.replace(".", "/")
            candidates = [f"{module}.py", f"{module}/__main__.py"]
        out.update(dict.fromkeys(c for c in candidates if c in known))
    return list(out)


def _evaluator(project: Project, config: AgentConfig, files: Sequence[str]) -> list[Problem]:
    """The files the evaluation and scorer commands name must not be swept into the
    editable set by a pattern (`*.py`), unless a level-5 protect lesson refuses every
    change to them (the hooks then keep them). One named on its own is deliberate:
    autoresearch's `train.py` is the program and prints its own metric (a reported
    metric, which the run says everywhere; `score` is the protected way). With a
    trusted target, what the evaluation prints does not count: only the scorer's files
    matter (the run takes them from its baseline, but a kept change would be the next
    run's scorer)."""
    from ladder.agent.workspace import never_proposed

    named = command_files(config.score, files)
    if not config.target.trusted:
        named = command_files(config.eval, files) + named
    out: list[Problem] = []
    for path in dict.fromkeys(named):
        globs = [g for g in config.editable if not g.startswith("!") and matches(path, [g])]
        if not globs or any(_names(g, path) for g in globs) or not matches(path, config.editable) \
                or _protected(project, path):
            continue
        glob = globs[0]
        narrower = [f for f in files if matches(f, config.editable) and f not in named
                    and not never_proposed(f) and not _protected(project, f)][:2]
        out.append(Problem(
            f"{path} runs the evaluation, and editable glob {glob!r} covers it: a candidate "
            "could change how it is scored",
            (f"narrow editable (e.g. editable = {_toml_list(narrower)}), " if narrower else
             "narrow editable, ")
            + f'or protect it at level 5: ladder add "The evaluator is ground truth" --id '
            f'protect-evaluator --why "..." && ladder promote protect-evaluator --to 5 '
            f"--rule protect paths={path}",
            "[tool.ladder.agent] editable"))
    return out


def _names(glob: str, path: str) -> bool:
    """Whether `glob` names `path` itself rather than a pattern it happens to match."""
    glob = glob.strip().removeprefix("./").lstrip("/")
    return glob == path or ("/" not in glob and glob == path.rsplit("/", 1)[-1])


def _toml_list(items: Sequence[str]) -> str:
    return "[" + ", ".join(f'"{i}"' for i in items) + "]"


def _protected(project: Project, path: str) -> bool:
    """Whether an active level-5 `protect` lesson refuses any change to `path`."""
    from ladder.rules.templates.protect import TEMPLATE
    from ladder.store import load_lessons

    for lesson in load_lessons(project):
        rule = lesson.rule
        if lesson.status != "active" or lesson.level != 5 or rule is None \
                or rule.template != "protect":
            continue
        if matches(path, TEMPLATE.validate(rule.args, lesson.id)["paths"]):
            return True
    return False


# --- the budget ----------------------------------------------------------------------


def budget(config: AgentConfig) -> Check:
    """The seeds and the evaluation budget can keep anything (budget.py)."""
    from ladder.agent import budget as spend
    from ladder.agent.decisions import make_decision

    decision = make_decision(config)
    found = tuple(Problem.of(e) for e in spend.problems(config, decision))
    need = spend.smallest(config, decision)
    return Check("budget", found, f"seeds {config.seeds} and the budget can keep something "
                                  f"(it takes at least {need} evaluations)")


# --- a scratch worktree: the hooks' trial commit and one evaluation --------------------------


@contextmanager
def scratch(project: Project, config: AgentConfig) -> Iterator[tuple[Workspace, Path]]:
    """A workspace and a checkout of HEAD outside the user's tree, removed afterwards
    with every directory it made (what it leaves under .ladder/runs/ holds no journal:
    it is no run, and a refused run leaves no trace)."""
    from ladder.agent.workspace import Workspace
    from ladder.sandbox import resolve

    box = resolve(config.sandbox.mode)[0].name
    ws = Workspace(project.root, f"preflight-{os.getpid()}", "HEAD", editable=config.editable)
    made = [d for d in (ws.run_dir.parent, ws.run_dir) if not d.exists()]
    ws.sandbox = box  # the hooks run confined, as the run's commits' hooks do
    try:
        yield ws, ws.checkout("preflight", ws.baseline)
    finally:
        ws.cleanup()
        shutil.rmtree(ws.run_dir, ignore_errors=True)
        for directory in made:
            with contextlib.suppress(OSError):  # only when empty: a run may have started
                directory.rmdir()


def hooks_check(project: Project, config: AgentConfig) -> Check:
    """A trivial commit through the installed hooks, as the run's commits go: what
    refuses it would refuse every candidate."""
    from ladder.agent.console import hook_reason
    from ladder.agent.workspace import never_proposed
    from ladder.hooks import precommit

    # A file a candidate may change: one a protect lesson guards would be refused, rightly.
    files = [f for f in committed_files(project) if matches(f, config.editable)
             and Path(f).suffix.lower() in _COMMENTS and not never_proposed(f)]
    target = next((f for f in files if not _protected(project, f)), None)
    if not precommit.status(project).installed.get("pre-commit"):
        return Check("hooks", (), "hooks: not installed (`ladder hooks install`): the loop's "
                                  "own check still refuses what level-5 lessons forbid")
    if target is None:
        return Check("hooks", (), "hooks: not tried (no editable file takes a comment)")
    started = time.monotonic()
    try:
        with scratch(project, config) as (ws, tree):
            path = tree / target
            text = path.read_text(encoding="utf-8", errors="surrogateescape")
            mark = _COMMENTS[Path(target).suffix.lower()]
            path.write_text(text + ("" if text.endswith("\n") or not text else "\n")
                            + f"{mark} ladder pre-flight: a trivial change\n",
                            encoding="utf-8", errors="surrogateescape")
            outcome = ws.commit(tree, "ladder pre-flight: a trivial commit through the hooks")
    except LadderError as exc:
        return Check("hooks", (Problem.of(exc),))
    if outcome.ok:
        return Check("hooks", (), f"the hooks passed a trivial commit of {target} in a scratch "
                                  f"worktree ({time.monotonic() - started:.1f} s)")
    said = outcome.reason or hook_reason(outcome.output)
    return Check("hooks", (Problem(
        f"the hooks refused a trivial commit (a comment appended to {target}, in a scratch "
        f"worktree of HEAD): {said}",
        "every candidate would be refused alike: make `git commit` pass here first "
        "(`ladder hooks status` checks the hooks)"),))


def evaluate_once(project: Project, config: AgentConfig) -> EvalResult:
    """The evaluation once on HEAD, as a run evaluates it (its sandbox, environment,
    timeout and scorer): one evaluation spent."""
    from ladder.agent.evaluate import evaluate, pass_through
    from ladder.agent.executor import detect_gpus, slot_env
    from ladder.agent.loop import derive_seed
    from ladder.agent.records import EvalJob
    from ladder.sandbox import expand

    box = config.sandbox
    with scratch(project, config) as (ws, tree):
        relative = tuple(tree / h for h in box.hidden if not Path(os.path.expanduser(h)).is_absolute())
        job = EvalJob(
            key="preflight/s0", root=tree, command=config.eval,
            seed=derive_seed(config.seed, "preflight"), timeout=config.timeout,
            env={**pass_through(config.pass_env), **slot_env(0, detect_gpus())},
            score=config.score, scorer=tree if config.score else None,
            trusted=tuple(m.name for m in config.metrics.values() if m.trusted),
            sandbox=ws.sandbox, writable=expand(box.writable, project.root),
            hidden=(*expand(box.hidden, project.root), *relative), network=box.network)
        return evaluate(job, config.target.name)
