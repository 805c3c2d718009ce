"""`ladder init` on a repository people have: it only adds (issue 13).

The repository is realistic: a LESSONS.md of the user's, an AGENTS.md with CRLF line
endings at mode 664, a CLAUDE.md linked to it, a nested AGENTS.md, and a pre-commit
config with several hooks, some with `stages`. After `ladder init`, `git diff` shows only
additions, modes are kept, and the next ordinary commit and push run through the real
pre-commit. `LADDER_PRE_COMMIT_3=/path/to/pre-commit` (a 3.x executable, e.g. from
`pip install 'pre-commit<4'` in its own venv) runs the same commit and push with it.
"""

from __future__ import annotations

import difflib
import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from testing.cli import ladder
from testing.fixtures import git, make_repo, write

USER_LESSONS = "# Our lessons\n\nNever call `eval` on user input.\n- keep the seed fixed\n"
AGENTS_CRLF = "# Agents\r\n\r\nUse pytest.\r\nDo not edit `evaluate.py`.\r\n"
NESTED_AGENTS = "# pkg\n\n- never print from the library\n"
# Each hook appends its name to $HOOK_LOG, so a test sees which ran at which git hook.
USER_CONFIG = """\
# team hooks: keep them fast
repos:
  - repo: local
    hooks:
      - id: any-stage          # no `stages`: pre-commit runs it at every installed hook type
        name: any stage
        entry: sh -c 'echo any-stage >> "$HOOK_LOG"'
        language: system
        pass_filenames: false
        always_run: true
      - id: commit-only
        name: commit only
        entry: sh -c 'echo commit-only >> "$HOOK_LOG"'
        language: system
        pass_filenames: false
        always_run: true
        stages: [pre-commit]
      - id: push-only
        name: push only
        entry: sh -c 'echo push-only >> "$HOOK_LOG"'
        language: system
        pass_filenames: false
        always_run: true
        stages: [pre-push]
"""
MODES = {"LESSONS.md": 0o644, "AGENTS.md": 0o664, "pkg/AGENTS.md": 0o644, ".pre-commit-config.yaml": 0o644}


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.fixture
def realistic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, umask_022: None) -> Path:
    """The repository described above, committed, with hooks logging to $HOOK_LOG."""
    monkeypatch.setenv("PRE_COMMIT_HOME", str(tmp_path / "pre-commit-home"))
    monkeypatch.setenv("HOOK_LOG", str(tmp_path / "hooks.log"))
    root = make_repo(tmp_path / "repo", {
        "LESSONS.md": USER_LESSONS,
        "pkg/AGENTS.md": NESTED_AGENTS,
        ".pre-commit-config.yaml": USER_CONFIG,
        "src/model.py": "def generate(x):\n    return x\n",
    }, commit=False)
    (root / "AGENTS.md").write_bytes(AGENTS_CRLF.encode())
    (root / "CLAUDE.md").symlink_to("AGENTS.md")
    for name, mode in MODES.items():
        (root / name).chmod(mode)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "the user's repository")
    return root


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if ".git" not in p.relative_to(root).parts and p.is_file() and not p.is_symlink()
    }


def _only_added(old: bytes, new: bytes) -> bool:
    """`new` is `old` with lines inserted, every old line kept byte for byte (CR included)."""
    matcher = difflib.SequenceMatcher(
        a=old.splitlines(keepends=True), b=new.splitlines(keepends=True), autojunk=False
    )
    return all(op[0] in ("equal", "insert") for op in matcher.get_opcodes())


def _hook_log(root: Path) -> list[str]:
    log = Path(os.environ["HOOK_LOG"])
    lines = log.read_text(encoding="utf-8").split() if log.exists() else []
    log.unlink(missing_ok=True)
    return lines


def _push(root: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    remote = tmp_path / "remote.git"
    if not remote.exists():
        git(tmp_path, "init", "-q", "--bare", str(remote))
        git(root, "remote", "add", "origin", str(remote))
    return git(root, "push", "-q", "origin", "main", check=False)


def _ordinary_commit(root: Path, name: str) -> subprocess.CompletedProcess[str]:
    write(root, name, "VALUE = 1\n")
    git(root, "add", name)
    return git(root, "commit", "-m", f"add {name}", check=False)


def test_init_only_adds_to_the_users_files(realistic: Path) -> None:
    root = realistic
    before = _files(root)
    proc = ladder(root, "init")
    assert proc.returncode == 0, proc.stderr
    after = _files(root)
    for name, old in before.items():
        assert _only_added(old, after[name]), f"{name}: a line of the user's changed"
    assert after["LESSONS.md"].startswith(USER_LESSONS.encode()), "the user's lessons come first, intact"
    assert b"<!-- ladder:begin" in after["LESSONS.md"]
    assert after["AGENTS.md"].count(b"\n") == after["AGENTS.md"].count(b"\r\n"), "CRLF kept"
    assert after["pkg/AGENTS.md"] == NESTED_AGENTS.encode()
    assert os.readlink(root / "CLAUDE.md") == "AGENTS.md", "the link stays a link"
    numstat = git(root, "diff", "--cached", "--numstat", "HEAD").stdout.splitlines()
    assert numstat and all(line.split("\t")[1] == "0" for line in numstat), numstat
    for name, mode in MODES.items():
        assert (root / name).stat().st_mode & 0o777 == mode, name
    assert (root / ".ladder/.gitignore").stat().st_mode & 0o777 == 0o644, "a new file: the umask's mode"
    assert "      language: system\n" in after[".pre-commit-config.yaml"].decode()


def test_next_commit_and_push_work_and_user_hooks_keep_their_stages(realistic: Path, tmp_path: Path) -> None:
    root = realistic
    assert ladder(root, "init").returncode == 0
    assert git(root, "diff", "--name-only").stdout == "", "init staged what it wrote"
    proc = _ordinary_commit(root, "src/more.py")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert _hook_log(root) == ["any-stage", "commit-only"]
    assert _push(root, tmp_path).returncode == 0
    # The stage-less hook ran at commit only, as before init; ladder's pre-push is its own.
    assert _hook_log(root) == ["push-only"]


PRE_COMMIT_3 = "3.8.0"


def _pre_commit_3() -> str:
    """A pre-commit 3.x executable: $LADDER_PRE_COMMIT_3, else one installed once into a
    virtual environment under the user's cache (PyPI, like the project's own install)."""
    given = os.environ.get("LADDER_PRE_COMMIT_3")
    if given:
        return given
    home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    venv = home / "ladder-tests" / f"pre-commit-{PRE_COMMIT_3}"
    exe = venv / "bin" / "pre-commit"
    if not exe.is_file():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", f"pre-commit=={PRE_COMMIT_3}"],
                       check=True, capture_output=True)
    return str(exe)


def test_init_with_pre_commit_3(realistic: Path, tmp_path: Path) -> None:
    """A teammate on pre-commit 3.x: the config validates and the hooks run (`language:
    unsupported`, pre-commit >= 4.4's name, failed all of them)."""
    pre_commit = _pre_commit_3()
    version = subprocess.run([pre_commit, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.split()[-1].startswith("3."), version.stdout
    root = realistic
    assert ladder(root, "init", "--no-hooks").returncode == 0
    check = subprocess.run([pre_commit, "validate-config"], cwd=root, capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    subprocess.run([pre_commit, "install", "--hook-type", "pre-commit", "--hook-type", "pre-push"],
                   cwd=root, capture_output=True, check=True)
    proc = _ordinary_commit(root, "src/more.py")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ladder check" in proc.stdout + proc.stderr, "pre-commit 3 ran ladder's hook"
    assert _hook_log(root) == ["any-stage", "commit-only"]
    assert _push(root, tmp_path).returncode == 0
    assert _hook_log(root) == ["push-only"]


def test_init_stages_nothing_of_the_users_work(realistic: Path) -> None:
    root = realistic
    (root / "AGENTS.md").write_bytes(AGENTS_CRLF.encode() + b"My unstaged rule.\r\n")
    write(root, "notes.txt", "untracked, mine\n")
    write(root, "src/model.py", "def generate(x):\n    return x * 2\n")
    git(root, "add", "src/model.py")  # staged work of the user's: stays staged, as it was
    proc = ladder(root, "init")
    assert proc.returncode == 0, proc.stderr
    staged = set(git(root, "diff", "--cached", "--name-only").stdout.split())
    assert {".pre-commit-config.yaml", "LESSONS.md", ".ladder/.gitignore", "src/model.py"} <= staged
    assert "AGENTS.md" not in staged and "notes.txt" not in staged
    assert "not staged, you had unstaged changes in: AGENTS.md" in proc.stdout
    assert "to stage: git add -- AGENTS.md" in proc.stdout


def test_init_no_stage_says_exactly_what_to_stage(realistic: Path) -> None:
    root = realistic
    proc = ladder(root, "init", "--no-stage")
    assert proc.returncode == 0, proc.stderr
    assert git(root, "diff", "--cached", "--name-only").stdout == "", "the index is untouched"
    [line] = [x for x in proc.stdout.splitlines() if "to stage:" in x]
    assert ".pre-commit-config.yaml" in line and "is staged" in proc.stdout
    git(root, *shlex.split(line.split("to stage:", 1)[1])[1:])  # the printed `git add -- ...`
    proc = _ordinary_commit(root, "src/more.py")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_reinit_of_an_older_ladders_config_says_how_to_keep_hooks_off_push(realistic: Path) -> None:
    # An older ladder added its entry without `default_stages` and installed pre-push:
    # the user's stage-less hook has run on every push since. Re-init adds nothing (it
    # cannot tell a choice from an accident) but says what to add.
    import yaml

    from ladder.hooks.precommit import hook_dict

    entry = yaml.safe_dump([{"repo": "local", "hooks": [hook_dict()]}], sort_keys=False)
    config = realistic / ".pre-commit-config.yaml"
    config.write_text(USER_CONFIG + "".join("  " + line + "\n" for line in entry.splitlines()))
    git(realistic, "commit", "-qam", "an older ladder's init")
    subprocess.run([sys.executable, "-m", "pre_commit", "install", "-t", "pre-commit", "-t",
                    "pre-push"], cwd=realistic, check=True, capture_output=True)
    before = config.read_bytes()
    proc = ladder(realistic, "init")
    assert proc.returncode == 0, proc.stderr
    assert config.read_bytes() == before
    [note] = [line for line in proc.stdout.splitlines() if "note:" in line]
    assert "any-stage (no `stages`) also run on every push" in note
    assert "`default_stages: [pre-commit]`" in note
    config.write_text(config.read_text() + "default_stages: [pre-commit]\n")
    assert "note:" not in ladder(realistic, "init").stdout
