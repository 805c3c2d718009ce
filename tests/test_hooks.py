"""The pre-commit layer: the config entry merged into users' files, and real git hooks."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import yaml

from ladder.errors import LadderError
from ladder.hooks import precommit
from ladder.project import Project
from testing.fixtures import commit, git, write

USER_HOOK = {"id": "black"}
BLACK = {"repo": "https://github.com/psf/black", "rev": "24.1.0", "hooks": [USER_HOOK]}


def _ours() -> dict[str, object]:
    return {"repo": "local", "hooks": [precommit.hook_dict()]}


DEFAULT_STAGES = {"default_stages": list(precommit.STAGES_BUT_PUSH)}


def _load(root: Path) -> dict[str, object]:
    data = yaml.safe_load((root / precommit.CONFIG).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _only_inserted(old: str, new: str) -> bool:
    """`new` is `old` with lines inserted and nothing else changed."""
    import difflib

    matcher = difflib.SequenceMatcher(a=old.splitlines(), b=new.splitlines(), autojunk=False)
    edits = {op[0] for op in matcher.get_opcodes() if op[0] != "equal"}
    return edits == {"insert"}


# --- ensure_config -------------------------------------------------------------------


def test_ensure_config_creates_a_valid_config(repo: Path) -> None:
    assert precommit.ensure_config(Project(repo)) is True
    assert _load(repo) == {"repos": [_ours()], **DEFAULT_STAGES}
    hook = _ours()["hooks"][0]  # type: ignore[index]
    assert hook["always_run"] is True and hook["require_serial"] is True
    assert hook["stages"] == ["pre-commit", "pre-push"]
    assert hook["entry"] == "ladder check --hook --"


def test_hook_language_is_one_every_supported_pre_commit_accepts(repo: Path) -> None:
    """`system`, whatever pre-commit is installed here: the config is shared, and pre-commit
    3.x rejects `unsupported` (>= 4.4's name), failing every hook of a teammate on 3.8."""
    precommit.ensure_config(Project(repo))
    assert "      language: system\n" in (repo / precommit.CONFIG).read_text(encoding="utf-8")
    assert precommit.hook_dict()["language"] == "system"


def test_created_config_passes_pre_commit_validation(repo: Path) -> None:
    import subprocess
    import sys

    precommit.ensure_config(Project(repo))
    proc = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-config", precommit.CONFIG],
        cwd=repo, capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


EXISTING = [
    pytest.param(
        "# team hooks\nrepos:\n  - repo: https://github.com/psf/black\n    rev: 24.1.0\n"
        "    hooks:\n      - id: black  # formatter\n",
        {"repos": [BLACK]},
        id="indented-list",
    ),
    pytest.param(
        "repos:\n-   repo: https://github.com/psf/black\n    rev: 24.1.0\n    hooks:\n"
        "    -   id: black\n# a comment at column 0\n\nci:\n  autofix: true\n",
        {"repos": [BLACK], "ci": {"autofix": True}},
        id="column-0-list-then-other-key",
    ),
    pytest.param(
        "default_stages: [pre-commit]\nrepos:  # none yet\nfail_fast: true\n",
        {"default_stages": ["pre-commit"], "repos": None, "fail_fast": True},
        id="empty-repos-key",
    ),
    pytest.param(
        "# only settings\nfail_fast: true",
        {"fail_fast": True},
        id="no-repos-key-no-final-newline",
    ),
    pytest.param(
        "repos:\r\n  - repo: https://github.com/psf/black\r\n    rev: 24.1.0\r\n"
        "    hooks:\r\n      - id: black\r\n",
        {"repos": [BLACK]},
        id="crlf",
    ),
]


@pytest.mark.parametrize(("text", "parsed"), EXISTING)
def test_ensure_config_merges_as_text_keeping_user_content(
    repo: Path, text: str, parsed: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(repo, precommit.CONFIG, "")
    path.write_bytes(text.encode())
    assert yaml.safe_load(text) == parsed  # the case says what the user had
    assert precommit.ensure_config(Project(repo)) is True
    new_text = path.read_bytes().decode()
    assert _only_inserted(text, new_text), "the user's lines are kept verbatim, in order"
    if "\r\n" in text:
        assert new_text.count("\n") == new_text.count("\r\n"), "line endings kept"
    merged = _load(repo)
    old_repos = parsed.get("repos") or []
    assert isinstance(old_repos, list)
    assert merged["repos"] == [*old_repos, _ours()]
    added = {} if "default_stages" in parsed else DEFAULT_STAGES
    assert {k: v for k, v in merged.items() if k != "repos"} == {
        **{k: v for k, v in parsed.items() if k != "repos"}, **added
    }
    assert "rewritten" not in capsys.readouterr().err
    assert precommit.ensure_config(Project(repo)) is False
    assert path.read_bytes().decode() == new_text, "idempotent"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("default_stages: [pre-commit, pre-push]\nrepos: []\n", id="own-default-stages"),
        pytest.param("default_install_hook_types: [pre-commit, pre-push]\nrepos:\n", id="installs-pre-push"),
    ],
)
def test_default_stages_is_left_to_a_user_who_chose_where_hooks_run(repo: Path, text: str) -> None:
    write(repo, precommit.CONFIG, text)
    precommit.ensure_config(Project(repo))
    assert _load(repo).get("default_stages") == yaml.safe_load(text).get("default_stages")


@pytest.mark.usefixtures("pc_home")
def test_default_stages_is_not_added_when_pre_push_already_runs_the_users_hooks(repo: Path) -> None:
    import subprocess
    import sys

    write(repo, precommit.CONFIG, "repos: []\n")
    subprocess.run([sys.executable, "-m", "pre_commit", "install", "--hook-type", "pre-push"],
                   cwd=repo, capture_output=True, check=True)
    precommit.ensure_config(Project(repo))
    assert "default_stages" not in _load(repo)


def test_default_stages_keeps_stage_less_hooks_everywhere_but_pre_push(repo: Path) -> None:
    """pre-commit runs a hook without `stages` at every stage when `default_stages` is unset;
    ladder's pre-push install must not add `git push` to where the user's hooks run."""
    from pre_commit.clientlib import STAGES

    write(repo, precommit.CONFIG, EXISTING[0].values[0])  # type: ignore[arg-type]
    precommit.ensure_config(Project(repo))
    assert set(_load(repo)["default_stages"]) == set(STAGES) - {"pre-push"}  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["", EXISTING[0].values[0]], ids=["new", "existing"])
def test_a_hook_appended_by_hand_still_lands_in_repos(repo: Path, text: str) -> None:
    """`default_stages` goes above `repos:`, so the file still ends with the repos: a hook
    a user (or a test of ours) appends at the end is one more repo, not broken YAML."""
    write(repo, precommit.CONFIG, text)
    precommit.ensure_config(Project(repo))
    path = repo / precommit.CONFIG
    path.write_text(path.read_text(encoding="utf-8") + "  - repo: local\n    hooks:\n"
                    "      - {id: mine, name: mine, entry: 'true', language: system}\n", encoding="utf-8")
    repos = _load(repo)["repos"]
    assert isinstance(repos, list) and repos[-1]["hooks"][0]["id"] == "mine"


def test_ensure_config_keeps_comments(repo: Path) -> None:
    write(repo, precommit.CONFIG, EXISTING[0].values[0])  # type: ignore[arg-type]
    precommit.ensure_config(Project(repo))
    text = (repo / precommit.CONFIG).read_text(encoding="utf-8")
    assert "# team hooks" in text and "# formatter" in text


def test_flow_style_repos_falls_back_to_yaml_and_says_so(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(repo, precommit.CONFIG, "repos: [{repo: local, hooks: [{id: mine, name: mine, "
          "entry: 'true', language: system}]}]\n")
    assert precommit.ensure_config(Project(repo)) is True
    repos = _load(repo)["repos"]
    assert isinstance(repos, list) and repos[0]["hooks"][0]["id"] == "mine"
    assert repos[1] == _ours()
    assert "rewritten from its parsed YAML" in capsys.readouterr().err


def test_ensure_config_noop_when_user_already_has_the_hook(repo: Path) -> None:
    text = (
        "repos:\n- repo: local\n  hooks:\n  - id: ladder-check\n    name: mine\n"
        "    entry: ladder check --hook\n    language: system\n"
    )
    write(repo, precommit.CONFIG, text)
    assert precommit.ensure_config(Project(repo)) is False
    assert (repo / precommit.CONFIG).read_text(encoding="utf-8") == text
    assert precommit.status(Project(repo)).language == "system"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("repos: [unclosed\n", id="bad-yaml"),
        pytest.param("- repo: local\n", id="top-level-list"),
    ],
)
def test_ensure_config_refuses_a_broken_config(repo: Path, text: str) -> None:
    write(repo, precommit.CONFIG, text)
    with pytest.raises(LadderError) as err:
        precommit.ensure_config(Project(repo))
    assert err.value.where == precommit.CONFIG
    assert (repo / precommit.CONFIG).read_text(encoding="utf-8") == text, "nothing written"


# --- install / status / uninstall (real pre-commit, real git) ------------------------


@pytest.fixture
def pc_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep pre-commit's cache out of the user's home."""
    monkeypatch.setenv("PRE_COMMIT_HOME", str(tmp_path / "pre-commit-home"))


@pytest.mark.usefixtures("pc_home")
def test_install_status_uninstall(repo: Path) -> None:
    project = Project(repo)
    assert precommit.status(project) == precommit.HookStatus(
        False, {"pre-commit": False, "pre-push": False}, ""
    )
    precommit.ensure_config(project)
    precommit.install(project)
    st = precommit.status(project)
    assert st.ok and st.language == "system"
    assert st.outdated == ()  # the entry ladder writes now
    # an entry an older ladder wrote: kept as it is (it is the user's), and named
    config = repo / ".pre-commit-config.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("ladder check --hook --", "ladder check --hook")
                      .replace("      types: []\n", "").replace("      types_or: [file, symlink]\n", ""),
                      encoding="utf-8")
    outdated = precommit.status(project).outdated
    assert len(outdated) == 2 and "--hook --" in outdated[0] and "symlink" in outdated[1]
    assert precommit.ensure_config(project) is False  # never rewritten by ladder
    script = (repo / ".git/hooks/pre-commit").read_text(encoding="utf-8")
    assert "pre_commit" in script and "--hook-type=pre-commit" in script
    precommit.uninstall(project)
    assert precommit.status(project).installed == {"pre-commit": False, "pre-push": False}


@pytest.mark.usefixtures("pc_home")
def test_install_refused_by_pre_commit_is_one_clear_error(repo: Path) -> None:
    git(repo, "config", "core.hooksPath", "elsewhere")
    with pytest.raises(LadderError) as err:
        precommit.install(Project(repo))
    assert "pre-commit install" in err.value.what and "hooksPath" in err.value.what


STUB = """#!/bin/sh
# a stand-in `ladder`: records how the hook called it, exits as told
printf '%s\\n' "--call--" "$@" >> "$LADDER_STUB_LOG"
exit "${LADDER_STUB_EXIT:-0}"
"""


@pytest.fixture
def stub_ladder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake `ladder` first on PATH, so the wiring git -> pre-commit -> entry is seen alone."""
    bin_dir = tmp_path / "stub-bin"
    bin_dir.mkdir()
    script = bin_dir / "ladder"
    script.write_text(STUB, encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    log = tmp_path / "calls.log"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("LADDER_STUB_LOG", str(log))
    return log


def _calls(log: Path) -> list[list[str]]:
    if not log.exists():
        return []
    chunks = log.read_text(encoding="utf-8").split("--call--\n")
    return [chunk.splitlines() for chunk in chunks if chunk]


def _installed_repo(repo: Path) -> Project:
    project = Project(repo)
    precommit.ensure_config(project)
    precommit.install(project)
    write(repo, "keep.py", "x = 1\n")
    assert commit(repo, "setup").returncode == 0
    return project


@pytest.mark.usefixtures("pc_home")
def test_commit_runs_ladder_check_hook_with_staged_files(
    repo: Path, stub_ladder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _installed_repo(repo)
    write(repo, "a.py", "print('a')\n")
    assert commit(repo, "add a").returncode == 0
    assert _calls(stub_ladder)[-1] == ["check", "--hook", "--", "a.py"]
    monkeypatch.setenv("LADDER_STUB_EXIT", "1")
    head = git(repo, "rev-parse", "HEAD").stdout
    write(repo, "b.py", "print('b')\n")
    proc = commit(repo, "add b")
    assert proc.returncode != 0, "exit 1 from `ladder check` blocks the commit"
    assert git(repo, "rev-parse", "HEAD").stdout == head


@pytest.mark.usefixtures("pc_home")
def test_commit_that_only_deletes_still_runs_the_hook(
    repo: Path, stub_ladder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _installed_repo(repo)
    before = len(_calls(stub_ladder))
    git(repo, "rm", "-q", "keep.py")
    monkeypatch.setenv("LADDER_STUB_EXIT", "1")
    proc = git(repo, "commit", "-m", "delete", check=False)
    assert proc.returncode != 0
    assert len(_calls(stub_ladder)) == before + 1
    assert _calls(stub_ladder)[-1] == ["check", "--hook", "--"]


@pytest.mark.usefixtures("pc_home")
def test_push_runs_the_hook_too(
    repo: Path, tmp_path: Path, stub_ladder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _installed_repo(repo)
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    monkeypatch.setenv("LADDER_STUB_EXIT", "1")
    proc = git(repo, "push", "-q", "origin", "main", check=False)
    assert proc.returncode != 0, "exit 1 from `ladder check` blocks the push"
    assert _calls(stub_ladder)[-1][:2] == ["check", "--hook"]


# --- the real chain: git -> pre-commit -> `ladder check --hook` -> a level-5 lesson -----


def _level_5(repo: Path, lesson_id: str, rule: dict[str, object]) -> None:
    """A repository with one level-5 lesson, its artifacts and installed hooks, committed."""
    from ladder.lesson import Lesson, Rule
    from ladder.levels import compile_all
    from ladder.store import load_lessons, save_lesson

    project = Project(repo)
    template = str(rule.pop("template"))
    save_lesson(project, Lesson(lesson_id, f"Title {lesson_id}", "why", level=5, rule=Rule(template, rule)))
    compile_all(project, load_lessons(project))
    precommit.install(project)
    assert commit(repo, "lesson at level 5").returncode == 0


@pytest.mark.slow
@pytest.mark.usefixtures("pc_home")
def test_a_level_5_lesson_blocks_a_real_commit(repo: Path) -> None:
    write(repo, "gen.py", "def generate(x):\n    validate_input(x)\n    return x\n")
    _level_5(repo, "gen", {"template": "require-call", "function": "generate", "calls": "validate_input"})
    write(repo, "gen.py", "def generate(x):\n    return x\n")
    refused = commit(repo, "drop validation")
    assert refused.returncode != 0
    assert "Title gen" in refused.stdout + refused.stderr
    write(repo, "gen.py", "def generate(x):\n    validate_input(x)\n    return x * 2\n")
    assert commit(repo, "compliant").returncode == 0


@pytest.mark.slow
@pytest.mark.usefixtures("pc_home")
def test_deleting_a_protected_file_is_a_blocked_commit(repo: Path) -> None:
    write(repo, "evaluate.py", "print('score: 1')\n")
    assert commit(repo, "the evaluator").returncode == 0  # before the lesson: no hook yet
    _level_5(repo, "protect-eval", {"template": "protect", "paths": ["evaluate.py"]})
    git(repo, "rm", "-q", "evaluate.py")
    refused = git(repo, "commit", "-m", "delete the evaluator", check=False)
    assert refused.returncode != 0, "a deletion-only commit still runs the hook (always_run)"
    assert "Title protect-eval" in refused.stdout + refused.stderr


@pytest.mark.slow
@pytest.mark.usefixtures("pc_home")
@pytest.mark.parametrize("entry", ["ladder check --hook --", "ladder check --hook"])
@pytest.mark.parametrize("name", ["--help", "-h", "--version", "-x.py", "--"])
def test_a_file_named_like_an_option_is_checked_not_obeyed(repo: Path, name: str, entry: str) -> None:
    """pre-commit appends the staged names after the entry: a file named `--help` must be
    a file (checked, and refused by the lesson that protects it), never an option that
    prints help and passes; and such a file can be committed when no lesson refuses it.
    Configs written before the entry ended with `--` behave the same."""
    write(repo, "evaluate.py", "print('score: 1')\n")
    assert commit(repo, "the evaluator").returncode == 0
    _level_5(repo, "protect-odd", {"template": "protect", "paths": [name]})
    if entry != precommit.HOOK_ENTRY:  # an older config's entry
        config = repo / ".pre-commit-config.yaml"
        config.write_text(config.read_text().replace(precommit.HOOK_ENTRY, entry))
        assert commit(repo, "the entry of an older ladder").returncode == 0
    write(repo, name, "x = 1\n")
    refused = commit(repo, f"add {name}")
    assert refused.returncode != 0, refused.stdout + refused.stderr
    assert "Title protect-odd" in refused.stdout + refused.stderr
    git(repo, "reset", "-q")
    (repo / name).unlink()
    other = "-other.py" if name != "-other.py" else "-another.py"
    write(repo, other, "x = 1\n")
    allowed = commit(repo, f"add {other}")
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr


@pytest.mark.slow
@pytest.mark.usefixtures("pc_home")
def test_a_newline_in_a_directory_name_does_not_hide_a_file(repo: Path) -> None:
    _level_5(repo, "protect-py", {"template": "protect", "paths": ["**/*.py"]})
    write(repo, "dir\nx/evil.py", "x = 1\n")
    refused = commit(repo, "a file no glob could see")
    assert refused.returncode != 0, refused.stdout + refused.stderr
    assert "Title protect-py" in refused.stdout + refused.stderr


@pytest.mark.slow
@pytest.mark.usefixtures("pc_home")
def test_a_symlink_is_checked_like_the_file_it_names(repo: Path) -> None:
    """pre-commit's default type filter (`file`) passes no symlink to a hook: the hook
    asks for symlinks too, so a commit that adds a protected path as a link is refused."""
    _level_5(repo, "no-eval", {"template": "forbid-call", "name": "eval"})
    write(repo, "payload.txt", "x = eval('1')\n")  # not Python by its name: no rule reads it
    assert commit(repo, "a text file").returncode == 0
    (repo / "run.py").symlink_to("payload.txt")  # Python by its name, a link by its type
    refused = commit(repo, "run.py as a link")
    assert refused.returncode != 0, refused.stdout + refused.stderr
    assert "Title no-eval" in refused.stdout + refused.stderr
