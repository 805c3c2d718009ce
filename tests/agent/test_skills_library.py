"""`ladder skills` commands: list, show, deprecate, export and import (round trip); audit."""

from __future__ import annotations

from pathlib import Path

import pytest

from ladder.agent.skills import Learner
from ladder.agent.skills.library import load_skills, skill_path
from ladder.agent.skills.model import skill_to_dict
from ladder.commands import skills as cmd
from ladder.errors import LadderError
from ladder.project import Project
from testing.skills import config, decide, init_project, move, verdict


def learned(root: Path) -> Project:
    init_project(root)
    project = Project(root)
    learner = Learner(project, "run1", config())
    decide(learner, 1, move("LR", 0.01, 0.02), verdict("keep", 0.1))
    decide(learner, 2, move("WD", 0.1, 0.05), verdict("keep", 0.2))
    decide(learner, 3, move("WD", 0.05, 0.04, "shift"), verdict("keep", 0.1))
    return project


def test_export_import_round_trip(tmp_path: Path) -> None:
    source = learned(tmp_path / "a")
    bundle = tmp_path / "skills.toml"
    assert cmd.export(source, bundle, ()) == 0
    init_project(tmp_path / "b")
    target = Project(tmp_path / "b")
    assert cmd.import_(target, bundle) == 0
    assert [skill_to_dict(s) for s in load_skills(target)] == [skill_to_dict(s) for s in load_skills(source)]
    # Importing again adds nothing (no evidence counted twice).
    before = skill_path(target, "decrease-wd").read_text(encoding="utf-8")
    assert cmd.import_(target, bundle) == 0
    assert skill_path(target, "decrease-wd").read_text(encoding="utf-8") == before


def test_import_merges_a_skill_with_the_same_pattern(tmp_path: Path) -> None:
    source = learned(tmp_path / "a")
    bundle = tmp_path / "skills.toml"
    cmd.export(source, bundle, ("increase-lr",))
    init_project(tmp_path / "b")
    target = Project(tmp_path / "b")
    decide(Learner(target, "other", config()), 1, move("LR", 0.01, 0.0125, "shift"), verdict("keep", 0.05))
    cmd.import_(target, bundle)
    (skill,) = load_skills(target)
    assert skill.version == 2 and [e.run for e in skill.evidence] == ["other", "run1"]
    assert skill.history[-1].why == "imported from skills.toml: 1 new evidence"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param('format = "other"\n', "not a skills bundle", id="not-a-bundle"),
        pytest.param('format = "ladder-skills"\nversion = 9\n', "unsupported bundle version", id="version"),
        pytest.param('format = "ladder-skills"\nversion = 1\n[[skill]]\nid = "Bad Id"\n', "field 'id'",
                     id="bad-skill"),
        pytest.param("format = [", "malformed TOML", id="malformed"),
    ],
)
def test_bad_bundle_is_one_error(tmp_path: Path, text: str, message: str) -> None:
    init_project(tmp_path)
    bundle = tmp_path / "bad.toml"
    bundle.write_text(text, encoding="utf-8")
    with pytest.raises(LadderError) as info:
        cmd.import_(Project(tmp_path), bundle)
    assert message in info.value.what and info.value.exit_code == 2


def test_bad_skill_file_names_itself(tmp_path: Path) -> None:
    project = learned(tmp_path)
    path = skill_path(project, "increase-lr")
    path.write_text(path.read_text(encoding="utf-8").replace('status = "active"', 'status = "old"'),
                    encoding="utf-8")
    with pytest.raises(LadderError) as info:
        cmd.list_(project, "table")
    assert info.value.where == ".ladder/skills/increase-lr.toml" and "status" in info.value.what


def test_list_show_deprecate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = learned(tmp_path)
    assert cmd.list_(project, "table") == 0
    header, *rows = capsys.readouterr().out.splitlines()
    assert header.split() == ["id", "version", "verified/applied", "title"]  # column headers
    assert rows[0].split() == ["decrease-wd", "v2", "2/2", "Decrease", "WD"]
    assert cmd.deprecate(project, "decrease-wd", "WD is tuned by the scheduler now") == 0
    assert cmd.list_(project, "json", status="deprecated") == 0
    out = capsys.readouterr().out
    assert '"id": "decrease-wd"' in out and "increase-lr" not in out.split("deprecated (v3)")[-1]
    assert cmd.show(project, "decrease-wd") == 0
    shown = capsys.readouterr().out
    assert "status: deprecated (WD is tuned by the scheduler now)" in shown
    assert "v3 " in shown and "deprecated by hand" in shown
    with pytest.raises(LadderError, match="reason"):
        cmd.deprecate(project, "increase-lr", " ")
    with pytest.raises(LadderError, match="no skill"):
        cmd.show(project, "nope")


def test_audit_counts_the_lessons_runs_taught(tmp_path: Path) -> None:
    from ladder.audit.report import build, to_dict
    from ladder.lesson import Lesson
    from ladder.store import save_lesson
    from testing.fixtures import make_repo

    root = make_repo(tmp_path / "repo")
    init_project(root)
    project = Project(root)
    save_lesson(project, Lesson("taught", "LR at or above 0.3 diverges", "seen twice", level=1,
                                source="learned by run r1 from iterations 2, 5"))
    save_lesson(project, Lesson("by-hand", "Keep the seed fixed", "people said so", level=1))
    report = build(project)
    assert report.taught == {"taught": "r1"}
    assert to_dict(report)["taught_by_runs"] == {"count": 1, "lessons": {"taught": "r1"}}
