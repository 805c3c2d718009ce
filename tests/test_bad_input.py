"""Bad input gets one clear line (what, where, what to do), exit code 2, nothing written."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from testing.cli import ladder
from testing.fixtures import make_repo, write


def one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("ladder: error:")
    return lines[0]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = make_repo(tmp_path / "p", {"a.py": "x = 1\n"})
    assert ladder(root, "init", "--no-hooks").returncode == 0
    return root


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and ".git" not in p.parts and "cache" not in p.parts
    }


def test_not_a_git_repository(tmp_path: Path) -> None:
    line = one_line_error(ladder(tmp_path, "init"))
    assert "not inside a git repository" in line
    assert "git init" in line
    assert not (tmp_path / ".ladder").exists()


def test_not_initialised(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "bare")
    assert "ladder init" in one_line_error(ladder(root, "list"))


def test_malformed_toml_names_the_file(project: Path) -> None:
    write(project, ".ladder/lessons/broken.toml", 'id = "broken"\ntitle = "unterminated\n')
    line = one_line_error(ladder(project, "list"))
    assert ".ladder/lessons/broken.toml" in line
    assert "TOML" in line


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param(
            'id = "wrong-level"\ntitle = "t"\nwhy = "w"\nlevel = 9\n', "level", id="level-range"
        ),
        pytest.param('id = "no-title"\nwhy = "w"\n', "title", id="missing-title"),
        pytest.param('id = "other"\ntitle = "t"\nwhy = "w"\n', "id", id="id-not-stem"),
        pytest.param(
            'id = "tags"\ntitle = "t"\nwhy = "w"\ntags = "x"\ncolour = 1\n',
            "colour",
            id="unknown-field",
        ),
        # enforcement that cannot work is refused, not listed (and audited) as enforced
        pytest.param(
            'id = "nowhere"\ntitle = "t"\nwhy = "w"\nlevel = 5\npaths = []\n'
            '[rule]\ntemplate = "protect"\npaths = ["x.py"]\n',
            "paths",
            id="empty-paths",
        ),
        pytest.param(
            'id = "ruleless"\ntitle = "t"\nwhy = "w"\nlevel = 5\n', "rule", id="level-5-without-rule"
        ),
        pytest.param(
            'id = "ruleless3"\ntitle = "t"\nwhy = "w"\nlevel = 3\n', "rule", id="level-3-without-rule"
        ),
    ],
)
def test_invalid_lesson_field_is_named(project: Path, body: str, field: str) -> None:
    stem = body.split('"')[1] if field != "id" else "mismatch"
    write(project, f".ladder/lessons/{stem}.toml", body)
    line = one_line_error(ladder(project, "list"))
    assert f"{stem}.toml" in line
    assert repr(field) in line


@pytest.mark.parametrize(
    ("rule", "needle"),
    [
        pytest.param(["--rule", "no-such-template"], "no-such-template", id="unknown-template"),
        pytest.param(
            ["--rule", "require-call", "function=generate"], "calls", id="missing-argument"
        ),
        pytest.param(
            ["--rule", "pattern", "yaml=rules: [{id: x}]"], "semgrep rule", id="broken-semgrep-rule"
        ),
        pytest.param(
            ["--rule", "custom", "check=no_such_module:Check"], "no_such_module", id="custom-import"
        ),
        pytest.param(["--rule", "regex", "regex=("], "regex", id="bad-regex"),
        pytest.param(["--rule", "require-call", "function"], "KEY=VALUE", id="not-key-value"),
    ],
)
def test_bad_rule_is_one_line_and_writes_nothing(
    project: Path, rule: list[str], needle: str
) -> None:
    lesson_id = ladder(project, "add", "A lesson", "--why", "because").stdout.strip()
    before = snapshot(project)
    line = one_line_error(ladder(project, "promote", lesson_id, "--to", "3", *rule))
    assert needle in line
    assert snapshot(project) == before


def test_unknown_lesson(project: Path) -> None:
    assert "ladder list" in one_line_error(ladder(project, "show", "nope"))


def test_usage_error_exits_2(project: Path) -> None:
    proc = ladder(project, "promote")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


def _enforce_no_eval(project: Path) -> None:
    from ladder.lesson import Lesson, Rule
    from ladder.project import Project
    from ladder.store import save_lesson

    save_lesson(Project(project), Lesson("no-eval", "No eval", "why", level=5, paths=("**/*.py",),
                                         rule=Rule("forbid-call", {"name": "eval"})))


def test_python_file_over_the_parse_limit_is_one_line(project: Path) -> None:
    """Issue 12, part 2: a generated 6 MB module cost the hook 3.1 GB; a file over
    `max_parse_bytes` is refused in one line before anything is parsed (fail closed)."""
    _enforce_no_eval(project)
    write(project, ".ladder/config.toml", "max_parse_bytes = 2000\n")
    write(project, "gen/big_pb.py", "x = eval(y)\n" * 200)  # 2,400 bytes
    line = one_line_error(ladder(project, "check", "--hook", "--", "gen/big_pb.py"))
    assert line.startswith("ladder: error: gen/big_pb.py: 2.4 KB is over the 2.0 KB limit")
    assert "add it to `exclude`" in line and "raise `max_parse_bytes`" in line
    one_line_error(ladder(project, "check", "--ci"))  # the whole tree too
    # Both ways out the line names work.
    write(project, ".ladder/config.toml", 'exclude = [".ladder/**", "gen/**"]\nmax_parse_bytes = 2000\n')
    assert ladder(project, "check", "--hook", "--", "gen/big_pb.py").returncode == 0
    write(project, ".ladder/config.toml", "max_parse_bytes = 3000\n")
    proc = ladder(project, "check", "--hook", "--", "gen/big_pb.py")
    assert proc.returncode == 1 and "gen/big_pb.py:200:5" in proc.stdout


@pytest.mark.parametrize(("key", "value", "says"), [
    *(("max_parse_bytes", v, "must be a positive integer") for v in ("0", "-1", "true", '"1 MB"')),
    *(("semgrep_timeout", v, "must be a whole number of seconds") for v in ("-1", "true", "1.5", '"5 s"')),
])
def test_a_bad_limit_is_one_line(project: Path, key: str, value: str, says: str) -> None:
    _enforce_no_eval(project)
    write(project, ".ladder/config.toml", f"{key} = {value}\n")
    line = one_line_error(ladder(project, "check"))
    assert "config.toml" in line and f"'{key}' {says}" in line
