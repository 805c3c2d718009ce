"""The user documentation and examples stay true: generated docs current, examples passing."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import click
import pytest

from ladder import _toml, docs
from ladder.cli import cli
from ladder.commands.promote import parse_rule_args
from ladder.lesson import Lesson, lesson_from_dict
from ladder.rules.cases import run_cases
from ladder.rules.registry import TEMPLATES
from testing.fixtures import make_repo

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
EXAMPLES = REPO / "examples"
# Each directory holding `lessons/` is the repository root its lessons are checked from.
EXAMPLE_ROOTS = sorted(p.parent for p in EXAMPLES.rglob("lessons") if p.is_dir())


def lessons_in(root: Path) -> list[Lesson]:
    out = []
    for path in sorted((root / "lessons").glob("*.toml")):
        where = f"lessons/{path.name}"
        out.append(lesson_from_dict(_toml.load(path, where), where, stem=path.stem))
    return out


def user_repo(example: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example copied to the root of a git repository, the working directory, as a
    user would try it (`pattern` rules read `config` files from the repository ladder runs in)."""
    copy = make_repo(Path(shutil.copytree(example, tmp_path / "repo")))
    monkeypatch.chdir(copy)
    return copy


# --- docs/rules.md -------------------------------------------------------------------


def test_rules_md_is_up_to_date(tmp_path: Path) -> None:
    generated = tmp_path / "rules.md"
    assert docs.main(["--output", str(generated)]) == 0
    assert generated.read_text(encoding="utf-8") == (DOCS / "rules.md").read_text(encoding="utf-8"), (
        "docs/rules.md is out of date: run `python -m ladder.docs`"
    )


def test_check_mode_fails_on_drift_and_passes_when_current(tmp_path: Path) -> None:
    target = tmp_path / "rules.md"
    target.write_text(docs.render() + "hand edit\n", encoding="utf-8")
    assert docs.main(["--check", "--output", str(target)]) == 1
    assert target.read_text(encoding="utf-8").endswith("hand edit\n")  # --check writes nothing
    assert docs.main(["--output", str(target)]) == 0
    assert docs.main(["--check", "--output", str(target)]) == 0


def test_render_is_deterministic() -> None:
    assert docs.render() == docs.render()


def test_every_template_has_an_example_and_a_section() -> None:
    assert set(docs.EXAMPLES) == set(TEMPLATES)
    text = (DOCS / "rules.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## `([a-z-]+)`$", text, re.M)
    assert headings == list(TEMPLATES)


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_documented_arguments_include_the_example_arguments(name: str) -> None:
    documented = {a.name for a in docs.template_args(TEMPLATES[name])}
    assert set(docs.EXAMPLES[name].args) <= documented
    assert set(docs.EXAMPLES[name].required) <= documented


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_promote_command_line_gives_the_example_rule(name: str) -> None:
    argv = shlex.split(docs.promote_command(name))
    assert argv[:2] == ["ladder", "promote"]
    template = argv[argv.index("--rule") + 1]
    pairs = [a for a in argv[argv.index("--rule") + 2 :] if "=" in a]
    given = TEMPLATES[template].validate(parse_rule_args(pairs), "cli")
    assert template == name
    assert given == docs.example_args(name)


def test_generated_example_lessons_round_trip_and_pass() -> None:
    lessons = [docs.example_lesson(name) for name in TEMPLATES]
    for lesson in lessons:
        text = docs.lesson_toml(lesson)
        assert lesson_from_dict(_toml.loads(text, "rules.md"), "rules.md") == lesson
    results = run_cases(lessons, root=REPO / "examples" / "custom_check")
    assert [r.detail for r in results if not r.ok] == []


# --- examples/ -----------------------------------------------------------------------


def test_examples_cover_every_template() -> None:
    used = {x.rule.template for root in EXAMPLE_ROOTS for x in lessons_in(root) if x.rule}
    assert used == set(TEMPLATES)


@pytest.mark.parametrize("root", EXAMPLE_ROOTS, ids=lambda p: p.relative_to(REPO).as_posix())
def test_example_lessons_parse_and_their_cases_pass(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = user_repo(root, tmp_path, monkeypatch)
    lessons = lessons_in(root)
    assert lessons
    results = run_cases(lessons, root=copy)
    assert [f"{r.lesson} {r.kind}[{r.index}]: {r.detail}" for r in results if not r.ok] == []
    for lesson in lessons:
        kinds = {r.kind for r in results if r.lesson == lesson.id}
        assert kinds == {"block", "allow"}, lesson.id


def test_semgrep_example_runs_its_annotated_test_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = user_repo(EXAMPLES / "semgrep", tmp_path, monkeypatch)
    results = run_cases(lessons_in(copy), root=copy)
    annotated = [r for r in results if r.source.startswith("annotated:")]
    assert {r.kind for r in annotated} == {"block", "allow"}
    assert all(r.ok for r in annotated)


# --- docs/commands.md and the hand-written pages ----------------------------------------


def _commands(group: click.Group, prefix: str = "ladder") -> list[tuple[str, click.Command]]:
    out = []
    for name, command in sorted(group.commands.items()):
        out.append((f"{prefix} {name}", command))
        if isinstance(command, click.Group):
            out += _commands(command, f"{prefix} {name}")
    return out


def _section(text: str, title: str) -> str:
    match = re.search(rf"^## `{re.escape(title)}`$(.*?)(?=^## |\Z)", text, re.M | re.S)
    return match.group(1) if match else ""


@pytest.mark.parametrize("title,command", _commands(cli), ids=lambda v: v if isinstance(v, str) else "")
def test_every_command_and_option_is_documented(title: str, command: click.Command) -> None:
    section = _section((DOCS / "commands.md").read_text(encoding="utf-8"), title)
    assert section, f"docs/commands.md has no `## \\`{title}\\`` section"
    for param in command.params:
        if isinstance(param, click.Option):
            longest = max(param.opts, key=len)
            if longest != "--help":
                assert longest in section, f"{title}: option {longest} is not documented"


@pytest.mark.parametrize("page", sorted(DOCS.glob("*.md")), ids=lambda p: p.name)
def test_relative_links_resolve(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    for target in re.findall(r"\]\((?!https?:|#)([^)#\s]+)", text):
        assert (page.parent / target).exists(), f"{page.name} links to missing {target}"
