"""The pre-flight (issue 14): `ladder agent run` and `ladder agent check` refuse, before
anything is spent, what would waste a run -- each problem one line with its fix on
stderr, exit 2, no journal, no commit -- through the real CLI on real repositories."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from testing.agent_repo import agent_table, make_agent_repo, run_dirs
from testing.cli import ladder
from testing.fixtures import git, make_repo, write

pytestmark = pytest.mark.slow

CHECK = ("agent", "check", "--no-eval")
RUN = ("agent", "run")

# A hook that refuses every Python file, saying why (pre-commit's `fail` language).
FAILING_HOOK = """\
  - repo: local
    hooks:
      - id: no-python
        name: no python
        entry: python changes need a review by the data team
        language: fail
        files: \\.py$
"""


def _head(root: Path) -> str:
    return git(root, "rev-parse", "HEAD").stdout.strip()


def _refused(root: Path, args: tuple[str, ...], *needles: str) -> list[str]:
    """Run `ladder ARGS`: exit 2, one stderr line per needle (each naming its fix), and
    nothing spent or committed. The problem lines."""
    head = _head(root) if git(root, "rev-parse", "-q", "--verify", "HEAD", check=False).stdout else ""
    proc = ladder(root, *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == len(needles), proc.stderr
    for line, needle in zip(lines, needles, strict=True):
        assert needle in line and "(fix: " in line, line
    assert "Traceback" not in proc.stderr
    assert not run_dirs(root)  # no journal: nothing ran
    assert not (root / ".ladder" / "runs").exists() or not any((root / ".ladder" / "runs").iterdir())
    if head:
        assert _head(root) == head  # nothing committed (not even the generated lesson)
    return lines


def _repo(tmp_path: Path, **table: object) -> Path:
    return make_agent_repo(tmp_path / "repo", config=agent_table(**table))  # type: ignore[arg-type]


@pytest.mark.parametrize("args", [RUN, CHECK], ids=["run", "check"])
def test_an_editable_glob_that_matches_nothing_is_refused_with_a_suggestion(
        tmp_path: Path, args: tuple[str, ...]) -> None:
    root = _repo(tmp_path, editable=("prgo.py",))
    [line] = _refused(root, args, "editable glob 'prgo.py' matches no file")
    assert 'did you mean "prog.py"?' in line


@pytest.mark.parametrize("args", [RUN, CHECK], ids=["run", "check"])
def test_files_ladder_init_wrote_and_nobody_committed_are_named(
        tmp_path: Path, args: tuple[str, ...]) -> None:
    """The issue's first run: every candidate was refused with "see output" because the
    hooks found no configuration in the run's worktrees."""
    root = make_repo(tmp_path / "repo", {"prog.py": "X = 3.0\nY = 2.0\n",
                                         "evaluate.py": "print('loss: 1.0')\n"})
    assert ladder(root, "init").returncode == 0  # staged, not committed
    write(root, ".ladder/agent.toml", agent_table())
    [line] = _refused(root, args, "not committed: ")
    assert ".pre-commit-config.yaml" in line and "git add -- " in line


def test_uncommitted_changes_to_the_program_are_named(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    write(root, "prog.py", "X = 1.0\nY = 2.0\n")
    _refused(root, RUN, "uncommitted changes in prog.py")


def test_a_repository_without_a_commit_is_refused(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    assert ladder(root, "init").returncode == 0
    write(root, ".ladder/agent.toml", agent_table())
    _refused(root, RUN, "has no commit yet")


@pytest.mark.parametrize("args", [RUN, CHECK], ids=["run", "check"])
def test_an_editable_evaluator_is_refused_unless_a_lesson_protects_it(
        tmp_path: Path, args: tuple[str, ...]) -> None:
    root = make_agent_repo(tmp_path / "repo", config=agent_table(editable=("*.py",)),
                           protect=False)
    [line] = _refused(root, args, "evaluate.py runs the evaluation, and editable glob '*.py' covers it")
    assert 'editable = ["prog.py"]' in line and "--rule protect paths=evaluate.py" in line
    # the demo's way: a loose glob, the evaluator guarded by a level-5 protect lesson
    guarded = make_agent_repo(tmp_path / "guarded", config=agent_table(editable=("*.py",)))
    proc = ladder(guarded, *CHECK)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_an_evaluator_listed_by_its_own_name_is_a_choice() -> None:
    """autoresearch's train.py is the program and prints its own metric: listed by name,
    it is meant (the run says the metric is self-reported); swept in by a pattern, not."""
    from ladder.agent.preflight import _names

    assert _names("train.py", "train.py") and _names("./train.py", "train.py")
    assert _names("train.py", "sub/train.py")  # a name without a slash: at any depth
    assert not _names("*.py", "train.py") and not _names("**", "train.py")


@pytest.mark.parametrize("args", [RUN, CHECK], ids=["run", "check"])
def test_seeds_and_budget_that_can_keep_nothing_are_refused_together(
        tmp_path: Path, args: tuple[str, ...]) -> None:
    root = _repo(tmp_path, seeds=1, extra="evaluations = 3\n")
    _refused(root, args, "seeds = 1", "evaluations = 3 cannot keep anything")


@pytest.mark.parametrize("args", [RUN, CHECK], ids=["run", "check"])
def test_hooks_that_refuse_a_trivial_commit_are_refused_with_their_words(
        tmp_path: Path, args: tuple[str, ...]) -> None:
    root = _repo(tmp_path)
    config = root / ".pre-commit-config.yaml"
    config.write_text(config.read_text(encoding="utf-8") + FAILING_HOOK, encoding="utf-8")
    git(root, "commit", "-q", "--no-verify", "-am", "a hook that refuses python")
    [line] = _refused(root, args, "the hooks refused a trivial commit")
    assert "hook 'no python' failed: python changes need a review by the data team" in line


def test_check_runs_the_evaluation_once_and_prints_the_target(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    head = _head(root)
    proc = ladder(root, "agent", "check")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "one evaluation" in proc.stdout  # it says what it costs before it spends it
    assert "ok: the evaluation ran on HEAD" in proc.stdout and "loss 6.2" in proc.stdout
    # what `ladder agent run` will commit onto the user's branch, said ahead
    assert "will first commit onto branch main the generated lesson agent-editable-only" in proc.stdout
    assert _head(root) == head and not git(root, "status", "--porcelain").stdout.strip()
    assert not run_dirs(root)


def test_check_refuses_an_evaluation_that_fails(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    write(root, "evaluate.py", "raise RuntimeError('the dataset is missing')\n")
    git(root, "commit", "-q", "--no-verify", "-am", "a broken evaluator")
    proc = ladder(root, "agent", "check")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    [line] = proc.stderr.strip().splitlines()
    assert "the evaluation failed on HEAD: exit code 1" in line
    assert "RuntimeError: the dataset is missing" in line
    assert "one evaluation was spent" in proc.stdout
    assert not run_dirs(root)


def test_the_run_says_before_it_commits_onto_the_users_branch(tmp_path: Path) -> None:
    root = _repo(tmp_path, iterations=1, extra="learn = false\n")
    head = _head(root)
    proc = ladder(root, *RUN, "--quiet")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    said = next(i for i, line in enumerate(lines) if "committing onto branch main" in line)
    assert said == 0  # the first word of the run, even with --quiet
    assert git(root, "rev-parse", "HEAD^").stdout.strip() == head
    assert "git revert" in lines[1]


def test_a_bad_configuration_is_one_line(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    write(root, ".ladder/agent.toml", agent_table().replace('editable = ["prog.py"]', "editable = 3"))
    proc = ladder(root, *CHECK)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "editable" in proc.stderr and "Traceback" not in proc.stderr


def test_python_m_names_its_module_as_the_evaluator() -> None:
    from ladder.agent.preflight import command_files

    files = ["train.py", "bench/score.py", "eval.sh", "cfg/eval.yaml"]
    assert command_files(f"{sys.executable} -m bench.score --seed 1", files) == ["bench/score.py"]
    assert command_files("bash ./eval.sh --config=cfg/eval.yaml", files) == ["eval.sh", "cfg/eval.yaml"]
    assert command_files("sh -c 'python train.py && echo done'", files) == ["train.py"]
