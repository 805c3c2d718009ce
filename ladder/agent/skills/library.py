"""Reading and writing `.ladder/skills/*.toml`, and the bundle `ladder skills export` writes.

Writes are atomic (`ladder.store.atomic_write`); a bad file is a LadderError naming it.
A bundle is one TOML file, `format = "ladder-skills"`, with the skills as `[[skill]]`
tables exactly as their files hold them, so tags, evidence and history travel along.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ladder import _toml
from ladder.agent.skills.model import Skill, skill_from_dict, skill_to_dict
from ladder.errors import LadderError
from ladder.lesson import slugify
from ladder.project import Project
from ladder.store import atomic_write

SKILLS_REL = ".ladder/skills"
BUNDLE_FORMAT = "ladder-skills"
BUNDLE_VERSION = 1
HEADER = "# A ladder skill, learned by `ladder agent run`. `ladder skills show ID` explains it.\n"


def skill_path(project: Project, skill_id: str) -> Path:
    return project.skills_dir / f"{skill_id}.toml"


def load_skills(project: Project) -> list[Skill]:
    """Every skill of the repository, sorted by id (none when the directory is absent)."""
    folder = project.skills_dir
    if not folder.is_dir():
        return []
    skills = []
    for path in sorted(folder.glob("*.toml")):
        where = f"{SKILLS_REL}/{path.name}"
        skills.append(skill_from_dict(_toml.load(path, where), where, stem=path.stem))
    return skills


def get_skill(project: Project, skill_id: str) -> Skill:
    path = skill_path(project, skill_id)
    if not path.is_file():
        known = ", ".join(s.id for s in load_skills(project)[:8]) or "none yet"
        raise LadderError(f"no skill with id {skill_id!r}", where=SKILLS_REL,
                          todo=f"`ladder skills list` shows them (here: {known})")
    where = f"{SKILLS_REL}/{path.name}"
    return skill_from_dict(_toml.load(path, where), where, stem=skill_id)


def save_skill(project: Project, skill: Skill) -> Path:
    path = skill_path(project, skill.id)
    atomic_write(path, HEADER + _toml.dumps(skill_to_dict(skill)))
    return path


def new_skill_id(project: Project, title: str, taken: Sequence[str] = ()) -> str:
    base = slugify(title)
    candidate, n = base, 2
    while candidate in taken or skill_path(project, candidate).exists():
        candidate, n = f"{base}-{n}", n + 1
    return candidate


# --- bundles -----------------------------------------------------------------------------


def write_bundle(path: Path, skills: Sequence[Skill], origin: str) -> None:
    data = {
        "format": BUNDLE_FORMAT,
        "version": BUNDLE_VERSION,
        "origin": origin,
        "skill": [skill_to_dict(s) for s in skills],
    }
    atomic_write(path, "# ladder skills bundle: `ladder skills import FILE` adds them.\n"
                 + _toml.dumps(data))


def read_bundle(path: Path) -> list[Skill]:
    where = str(path)
    if not path.is_file():
        raise LadderError("no such file", where=where, todo="give the file `ladder skills export` wrote")
    data = _toml.load(path, where)
    if data.get("format") != BUNDLE_FORMAT:
        raise LadderError(
            f"not a skills bundle (format = {data.get('format')!r})",
            where=where,
            todo=f"give the file `ladder skills export` wrote (format = {BUNDLE_FORMAT!r})",
        )
    version = data.get("version")
    if version != BUNDLE_VERSION:
        raise LadderError(f"unsupported bundle version {version!r}", where=where,
                          todo=f"this ladder reads version {BUNDLE_VERSION}")
    items = data.get("skill", [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise LadderError("key 'skill' must be an array of tables", where=where)
    return [skill_from_dict(item, f"{where} [[skill]] #{n}") for n, item in enumerate(items)]
