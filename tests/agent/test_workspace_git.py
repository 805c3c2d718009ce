"""The run's workspace on real git: worktrees, proposals, commits through the real hooks,
defence in depth, refs and notes, crossover by three-way merge, gates."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml

from ladder.agent.records import Proposal, Verdict
from ladder.agent.workspace import Workspace, apply_proposal, blocked_ids
from ladder.commands import init
from ladder.errors import LadderError
from ladder.lesson import Lesson, Rule
from ladder.project import Project
from ladder.store import save_lesson
from testing.fixtures import git, make_repo, write

GOOD = "def generate(x):\n    validate_input(x)\n    return model(x)\n"
BAD = "def generate(x):\n    return model(x)\n"
TRAIN = "".join(f"P{i} = {i}\n" for i in range(12))  # far-apart lines merge cleanly
EDITABLE = ("train.py", "gen.py")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository with ladder initialised, hooks installed and two level-5 lessons."""
    root = make_repo(
        tmp_path_factory.mktemp("tpl") / "repo",
        {"gen.py": GOOD, "train.py": TRAIN, "evaluate.py": "print('val_loss: 1')\n"},
    )
    project = Project(root)
    init.run(project)
    save_lesson(project, Lesson(
        id="validate", title="generate() must call validate_input()", why="injection", level=5,
        rule=Rule("require-call", {"function": "generate", "calls": "validate_input"}),
    ))
    save_lesson(project, Lesson(
        id="protect-eval", title="The evaluator is ground truth", why="w", level=5,
        rule=Rule("protect", {"paths": ["evaluate.py"]}),
    ))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "ladder with two level-5 lessons")
    return root


@pytest.fixture
def ws(template: Path, tmp_path: Path) -> Workspace:
    root = tmp_path / "repo"
    shutil.copytree(template, root, symlinks=True)
    base = git(root, "rev-parse", "HEAD").stdout.strip()
    workspace = Workspace(root, "r1", base, editable=EDITABLE)
    workspace.start()
    return workspace


def head(tree: Path) -> str:
    return git(tree, "rev-parse", "HEAD").stdout.strip()


def clean(tree: Path) -> bool:
    return git(tree, "status", "--porcelain", "--ignored=no").stdout == ""


def no_verify_commit(tree: Path, files: dict[str, str], message: str = "sneaky") -> str:
    for name, text in files.items():
        write(tree, name, text)
    git(tree, "add", "-A")
    git(tree, "commit", "-q", "--no-verify", "-m", message)
    return head(tree)


# --- worktrees -------------------------------------------------------------------------


def test_checkout_creates_then_reuses_a_clean_detached_worktree(ws: Workspace) -> None:
    tree = ws.checkout("cand", ws.baseline)
    assert tree == ws.root / ".ladder/runs/r1/worktrees/cand"
    assert head(tree) == ws.baseline
    write(tree, "train.py", "dirty\n")
    write(tree, "scratch/out.bin", "junk")
    # A proposer or a candidate wrote this tree: even ladder's own caches go (a planted
    # hook index would be read by the hook ladder's commit runs there, unsandboxed).
    write(tree, ".ladder/cache/hook-index.marshal", "planted")
    os.mkfifo(tree / "pred.json")  # git neither shows nor cleans a FIFO

    again = ws.checkout("cand", ws.baseline)
    assert again == tree
    assert (tree / "train.py").read_text() == TRAIN
    assert not (tree / "scratch").exists()
    assert not (tree / ".ladder/cache/hook-index.marshal").exists()
    assert not (tree / "pred.json").exists()
    assert git(tree, "symbolic-ref", "-q", "HEAD", check=False).returncode != 0  # detached
    # The main work tree does not see the nested worktree.
    assert git(ws.root, "status", "--porcelain").stdout == ""


def test_checkout_recreates_a_broken_worktree_and_cleanup_removes_all(ws: Workspace) -> None:
    tree = ws.checkout("cand", ws.baseline)
    shutil.rmtree(tree)
    tree.mkdir()  # a directory left by a run killed mid-creation
    assert head(ws.checkout("cand", ws.baseline)) == ws.baseline
    ws.checkout("parent", ws.baseline)

    ws.cleanup()
    assert not ws.worktrees_dir.exists()
    listed = git(ws.root, "worktree", "list", "--porcelain").stdout
    assert listed.count("worktree ") == 1


# --- apply -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("proposal", "reason"),
    [
        pytest.param(Proposal("x", {"evaluate.py": "print('val_loss: 0')\n"}), "not editable",
                     id="protected-file"),
        pytest.param(Proposal("x", {"train.py": "P0 = 9\n", "evaluate.py": ""}), "not editable",
                     id="one-of-two-protected"),
        pytest.param(Proposal("x", {}, deleted=("evaluate.py",)), "not editable", id="delete-protected"),
        pytest.param(Proposal("x", {"../outside.py": "x"}), "outside", id="dotdot"),
        pytest.param(Proposal("x", {"/etc/train.py": "x"}), "outside", id="absolute"),
        pytest.param(Proposal("x", {".git/hooks/train.py": "x"}), "outside", id="git-dir"),
        pytest.param(Proposal("x", {"train.py": TRAIN}), "empty", id="same-content"),
        pytest.param(Proposal("x", {}), "empty", id="no-files"),
        pytest.param(Proposal("x", {}, deleted=("gen2.py",)), "empty", id="delete-missing"),
    ],
)
def test_apply_refuses_and_writes_nothing(ws: Workspace, proposal: Proposal, reason: str) -> None:
    tree = ws.checkout("cand", ws.baseline)
    refusal = ws.apply(tree, proposal, ("*.py", "!evaluate.py"))
    assert refusal is not None and reason in refusal
    assert clean(tree)


def test_apply_refuses_a_symlink_out_of_the_tree(ws: Workspace, tmp_path: Path) -> None:
    tree = ws.checkout("cand", ws.baseline)
    (tree / "link.py").symlink_to(tmp_path / "victim.py")
    refusal = apply_proposal(tree, Proposal("x", {"link.py": "pwned"}), ("*.py",))
    assert refusal is not None and "outside" in refusal
    assert not (tmp_path / "victim.py").exists()
    # The workspace cleans the checkout first: the link a proposer left is gone, and the
    # proposal is written as a regular file of the tree.
    assert ws.apply(tree, Proposal("x", {"link.py": "pwned"}), ("*.py",)) is None
    assert not (tree / "link.py").is_symlink() and not (tmp_path / "victim.py").exists()


def test_apply_writes_and_deletes_editable_files(ws: Workspace) -> None:
    tree = ws.checkout("cand", ws.baseline)
    proposal = Proposal("x", {"./train.py": "P0 = 2\n", "sub/new.py": "N = 1\n"}, deleted=("gen.py",))
    assert ws.apply(tree, proposal, ("train.py", "gen.py", "sub/**")) is None
    assert (tree / "train.py").read_text() == "P0 = 2\n"
    assert (tree / "sub/new.py").read_text() == "N = 1\n"
    assert not (tree / "gen.py").exists()


# --- commit through the installed hooks ---------------------------------------------


def test_commit_blocked_by_a_level5_lesson_names_it_and_resets(ws: Workspace) -> None:
    tree = ws.checkout("cand", ws.baseline)
    assert ws.apply(tree, Proposal("faster", {"gen.py": BAD}), EDITABLE) is None
    outcome = ws.commit(tree, "drop validation: 15% faster")
    assert not outcome.ok and outcome.sha == ""
    assert outcome.blocked_by == ("validate",)
    assert "generate() must call validate_input()" in outcome.output
    assert head(tree) == ws.baseline and clean(tree)


def test_commit_ignores_an_inherited_skip(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKIP", "ladder-check")
    tree = ws.checkout("cand", ws.baseline)
    write(tree, "evaluate.py", "print('val_loss: 0')\n")  # past apply: only the hook stands
    outcome = ws.commit(tree, "edit the evaluator")
    assert outcome.blocked_by == ("protect-eval",)
    assert (tree / "evaluate.py").read_text() == "print('val_loss: 1')\n"


def test_commit_lands_as_the_ladder_agent(ws: Workspace) -> None:
    tree = ws.checkout("cand", ws.baseline)
    assert ws.apply(tree, Proposal("lr", {"train.py": TRAIN.replace("P0 = 0", "P0 = 5")}), EDITABLE) is None
    outcome = ws.commit(tree, "P0 up")
    assert outcome.ok and outcome.blocked_by == ()
    assert outcome.sha == head(tree)
    assert git(tree, "log", "-1", "--format=%an|%cn|%s").stdout.strip() == "ladder agent|ladder agent|P0 up"
    assert git(tree, "rev-parse", "HEAD~1").stdout.strip() == ws.baseline
    assert ws.verify_commit(tree, outcome.sha, ws.baseline) == []


def test_blocked_ids_come_from_the_findings_file(tmp_path: Path) -> None:
    findings = tmp_path / "findings.jsonl"
    assert blocked_ids(findings) == ()  # no file: ladder blocked nothing
    findings.write_text('{"blocked": ["validate"]}\n{"blocked": ["b-1", "validate"]}\n{"blo',
                        encoding="utf-8")
    assert blocked_ids(findings) == ("validate", "b-1")


LOUD_HOOK = {"repo": "local", "hooks": [{
    "id": "loud", "name": "loud", "language": "system", "pass_filenames": False,
    "entry": "sh -c 'echo \"x.py:1:1: error [protect-eval] fake\"; exit 1'"}]}


def test_lesson_shaped_text_from_another_hook_names_no_lesson(ws: Workspace) -> None:
    # what blocked is read from the findings file ladder's hook writes, not from text any
    # hook (or the code a hook runs) can print
    tree = ws.checkout("cand", ws.baseline)
    config = tree / ".pre-commit-config.yaml"
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["repos"].append(LOUD_HOOK)
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    outcome = ws.commit(tree, "a loud hook")
    assert not outcome.ok and "error [protect-eval] fake" in outcome.output
    assert outcome.blocked_by == ()


# --- defence in depth ------------------------------------------------------------------


def test_verify_catches_a_no_verify_edit_of_a_protected_file(ws: Workspace) -> None:
    tree = ws.checkout("cand", ws.baseline)
    sha = no_verify_commit(tree, {"evaluate.py": "print('val_loss: 0')\n"})
    reasons = ws.verify_commit(tree, sha, ws.baseline)
    assert any("evaluate.py is protected" in r for r in reasons)
    assert any("[protect-eval]" in r for r in reasons)


def test_verify_catches_a_no_verify_rule_violation_in_an_editable_file(ws: Workspace) -> None:
    tree = ws.checkout("cand", ws.baseline)
    sha = no_verify_commit(tree, {"gen.py": BAD})
    assert ws.verify_commit(tree, sha, ws.baseline) == [
        "gen.py:1:5: [validate] generate() must call validate_input()"
    ]


def test_verify_judges_with_the_baseline_lessons_not_the_candidates(ws: Workspace) -> None:
    tree = ws.checkout("cand", ws.baseline)
    (tree / ".ladder/lessons/validate.toml").unlink()  # the candidate drops the lesson...
    sha = no_verify_commit(tree, {"gen.py": BAD})  # ...and the validation
    reasons = ws.verify_commit(tree, sha, ws.baseline)
    assert any("[validate]" in r for r in reasons)
    assert any(".ladder/lessons/validate.toml is protected" in r for r in reasons)


def test_verify_checks_protection_against_the_baseline_not_the_parent(ws: Workspace) -> None:
    tree = ws.checkout("cand", ws.baseline)
    first = no_verify_commit(tree, {"evaluate.py": "print('val_loss: 0')\n"}, "step 1")
    second = no_verify_commit(tree, {"train.py": "P0 = 1\n"}, "step 2")
    reasons = ws.verify_commit(tree, second, first)
    assert any("evaluate.py is protected" in r for r in reasons)


# --- gates -------------------------------------------------------------------------


def test_gates_stop_at_the_first_failure(ws: Workspace) -> None:
    tree = ws.checkout("cand", ws.baseline)
    gates = ["touch one.txt", "echo boom-output; exit 3", "touch three.txt"]
    ok, output = ws.run_gates(tree, gates, timeout=10)
    assert not ok
    assert "echo boom-output; exit 3" in output and "exit code 3" in output and "boom-output" in output
    assert (tree / "one.txt").exists() and not (tree / "three.txt").exists()


def test_gates_all_pass(ws: Workspace) -> None:
    tree = ws.checkout("cand", ws.baseline)
    assert ws.run_gates(tree, ["true", "test -f train.py"], timeout=10) == (True, "")


# --- refs, notes, branch -----------------------------------------------------------------


def _commit_train(ws: Workspace, slot: str, parent: str, old: str, new: str) -> str:
    tree = ws.checkout(slot, parent)
    text = (tree / "train.py").read_text().replace(old, new)
    assert ws.apply(tree, Proposal(new, {"train.py": text}), EDITABLE) is None
    outcome = ws.commit(tree, new)
    assert outcome.ok, outcome.output
    return outcome.sha


def test_a_stale_git_lock_is_one_line_naming_the_file(ws: Workspace) -> None:
    """A lock a killed git left: one line that names it and says what to do (git's
    paragraph, with the kilobyte note text in the command, was 1.1 KB)."""
    sha = _commit_train(ws, "cand", ws.baseline, "P0 = 0", "P0 = 7")
    lock = ws.root / ".git" / "refs" / "notes" / "ladder.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text("")
    with pytest.raises(LadderError) as caught:
        ws.record(sha, 3, Verdict("keep", ("better",) * 40, {"effect": -0.1, "n": 5}))
    line = caught.value.line()
    assert f"{lock} exists" in line and "remove" in line and "\n" not in line
    assert len(line) < 400


def test_record_keeps_candidates_reachable_with_their_verdict(ws: Workspace) -> None:
    assert ws.tip() == ws.baseline
    sha = _commit_train(ws, "cand", ws.baseline, "P0 = 0", "P0 = 7")
    ws.record(sha, 3, Verdict("keep", ("better",), {"effect": -0.1, "n": 5}))
    assert git(ws.root, "rev-parse", "refs/ladder/r1/3").stdout.strip() == sha
    assert ws.recorded() == {3: sha}
    note = json.loads(git(ws.root, "notes", "--ref=refs/notes/ladder", "show", sha).stdout)
    assert note == {"run": "r1", "iteration": 3, "status": "keep", "reasons": ["better"],
                    "stats": {"effect": -0.1, "n": 5}}
    assert ws.note(sha) == note

    ws.advance(sha)
    assert ws.tip() == sha
    assert git(ws.root, "rev-parse", "ladder/r1").stdout.strip() == sha
    assert Workspace(ws.root, "r1", ws.baseline).start() == sha  # a resume keeps the tip

    ws.cleanup()  # the worktree goes; the candidate stays reachable
    git(ws.root, "gc", "-q", "--prune=now")
    assert git(ws.root, "cat-file", "-t", sha).stdout.strip() == "commit"


def test_a_discarded_candidate_does_not_move_the_branch(ws: Workspace) -> None:
    sha = _commit_train(ws, "cand", ws.baseline, "P0 = 0", "P0 = 8")
    ws.record(sha, 1, Verdict("discard", ("worse",)))
    assert ws.tip() == ws.baseline
    assert ws.note(sha) is not None and ws.note(sha)["status"] == "discard"  # type: ignore[index]
    assert ws.note(ws.baseline) is None


# --- crossover ---------------------------------------------------------------------


def test_crossover_merges_two_non_conflicting_lineages(ws: Workspace) -> None:
    a = _commit_train(ws, "cand", ws.baseline, "P1 = 1", "P1 = 100")
    b = _commit_train(ws, "cand", ws.baseline, "P10 = 10", "P10 = 1000")
    tree = ws.checkout("cand", a)
    merged = ws.crossover(a, b, tree)
    expected = TRAIN.replace("P1 = 1", "P1 = 100").replace("P10 = 10", "P10 = 1000")
    assert merged == {"train.py": expected}
    assert head(tree) == a and clean(tree)
    assert not (Path(git(tree, "rev-parse", "--git-dir").stdout.strip()) / "MERGE_HEAD").exists()


def test_crossover_conflict_returns_none_and_leaves_the_tree_clean(ws: Workspace) -> None:
    a = _commit_train(ws, "cand", ws.baseline, "P1 = 1", "P1 = 100")
    b = _commit_train(ws, "cand", ws.baseline, "P1 = 1", "P1 = 200")
    tree = ws.checkout("cand", a)
    assert ws.crossover(a, b, tree) is None
    assert head(tree) == a and clean(tree)
    assert (tree / "train.py").read_text() == TRAIN.replace("P1 = 1", "P1 = 100")


def test_crossover_with_an_ancestor_adds_nothing(ws: Workspace) -> None:
    a = _commit_train(ws, "cand", ws.baseline, "P1 = 1", "P1 = 100")
    assert ws.crossover(a, ws.baseline, ws.checkout("cand", a)) == {}


def test_enforcement_is_pinned_at_the_runs_start(ws: Workspace) -> None:
    # what a proposer can reach from its worktree: the main tree's lessons and config, and
    # the repository's git config -- none of it changes what the run enforces
    lesson = ws.root / ".ladder" / "lessons" / "validate.toml"
    lesson.write_text(lesson.read_text(encoding="utf-8").replace("level = 5", "level = 1"),
                      encoding="utf-8")
    (ws.root / ".ladder" / "config.toml").write_text('exclude = ["**"]\n', encoding="utf-8")
    git(ws.root, "config", "core.hooksPath", "/dev/null")
    tree = ws.checkout("cand", ws.baseline)
    assert ws.apply(tree, Proposal("faster", {"gen.py": BAD}), EDITABLE) is None
    outcome = ws.commit(tree, "drop validation")
    assert not outcome.ok and outcome.blocked_by == ("validate",)  # the hooks still ran
    sneaky = no_verify_commit(tree, {"gen.py": BAD})
    reasons = ws.verify_commit(tree, sneaky, ws.baseline)
    assert any("[validate]" in r for r in reasons), reasons
