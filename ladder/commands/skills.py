"""`ladder skills list|show|deprecate|export|import`: the skill library of `.ladder/skills/`.

Export writes one bundle file with the skills' tags, evidence and history; import adds
each skill to this repository, merging one whose pattern a local skill already has
(evidence united, the larger usage kept so importing twice counts nothing twice).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path

from ladder.agent.skills.library import (
    get_skill,
    load_skills,
    new_skill_id,
    read_bundle,
    save_skill,
    skill_path,
    write_bundle,
)
from ladder.agent.skills.model import Skill, Usage, skill_to_dict
from ladder.agent.skills.policy import posterior_mean
from ladder.errors import LadderError
from ladder.project import Project


def list_(project: Project, fmt: str = "table", *, status: str | None = None,
          tag: str | None = None) -> int:
    skills = [s for s in load_skills(project)
              if (status is None or s.status == status) and (tag is None or tag.lower() in s.tags)]
    if fmt == "json":
        print(json.dumps([_row(s) for s in skills], indent=2))
        return 0
    if not skills:
        print("no skills yet: `ladder agent run` deposits one for every verified keep")
        return 0
    width = max(len("id"), *(len(s.id) for s in skills))
    # Column headers: "v3   2/5" meant nothing to a first reader (issue 14).
    print(f"{'id':<{width}}  {'version':<7}  {'verified/applied':<16}  title")
    for s in skills:
        u = s.usage
        state = "" if s.active else f"  [deprecated: {s.reason[:60]}]"
        print(f"{s.id:<{width}}  {'v' + str(s.version):<7}  "
              f"{str(u.successes) + '/' + str(u.applications):<16}  {s.title}{state}")
    return 0


def _row(s: Skill) -> dict[str, object]:
    return {
        "id": s.id, "title": s.title, "status": s.status, "reason": s.reason,
        "version": s.version, "tags": list(s.tags),
        "applications": s.usage.applications, "successes": s.usage.successes,
        "posterior_mean": round(posterior_mean(s), 4), "evidence": len(s.evidence),
    }


def show(project: Project, skill_id: str, fmt: str = "text") -> int:
    s = get_skill(project, skill_id)
    if fmt == "json":
        print(json.dumps(skill_to_dict(s), indent=2))
        return 0
    u = s.usage
    lines = [
        f"{s.id}: {s.title}",
        f"  status: {s.status}" + (f" ({s.reason})" if s.reason else ""),
        f"  version {s.version}; tags: {', '.join(s.tags) or '-'}",
        "  pattern: " + ", ".join(f"{k}={v}" for k, v in s.pattern.items()),
        f"  usage: {u.successes} verified of {u.applications} applications "
        f"(posterior mean {posterior_mean(s):.2f}); {u.since_success} since the last success",
        "  evidence:",
        *(f"    run {e.run} #{e.iteration} {e.commit[:10]} effect {e.effect:+.4g}"
          + (f" ci [{e.ci[0]:.4g}, {e.ci[1]:.4g}]" if e.ci else "")
          + (f": {e.description}" if e.description else "") for e in s.evidence),
        "  history:",
        *(f"    v{h.version} {h.when}: {h.why}" for h in s.history),
    ]
    print("\n".join(lines))
    return 0


def deprecate(project: Project, skill_id: str, why: str) -> int:
    if not why.strip():
        raise LadderError("a deprecation needs its reason", todo="add --why TEXT")
    s = get_skill(project, skill_id)
    if not s.active:
        print(f"{s.id}: already deprecated ({s.reason})")
        return 0
    reason = " ".join(why.split())
    save_skill(project, s.bumped(f"deprecated by hand: {reason}", status="deprecated", reason=reason))
    print(f"{s.id}: deprecated (v{s.version + 1}); it is no longer injected")
    return 0


def export(project: Project, path: Path, ids: Sequence[str] = ()) -> int:
    skills = [get_skill(project, i) for i in ids] if ids else load_skills(project)
    if not skills:
        raise LadderError("no skills to export", where=str(project.skills_dir),
                          todo="`ladder agent run` deposits skills first")
    write_bundle(path, skills, origin=project.root.name)
    print(f"exported {len(skills)} skill(s) to {path}")
    return 0


def import_(project: Project, path: Path) -> int:
    project.require_initialized()
    incoming = read_bundle(path)
    local = {s.id: s for s in load_skills(project)}
    by_key = {s.key: s for s in local.values()}
    for skill in incoming:
        mine = by_key.get(skill.key)
        if mine is None:
            taken = [*local]
            new_id = skill.id if skill.id not in local and not skill_path(project, skill.id).exists() \
                else new_skill_id(project, skill.id, taken)
            skill = dataclasses.replace(skill, id=new_id)
            save_skill(project, skill)
            print(f"{skill.id}: imported (v{skill.version})")
        else:
            merged = merge_skill(mine, skill, f"imported from {path.name}")
            if merged is mine:
                print(f"{mine.id}: unchanged (already has this evidence)")
                continue
            skill = merged
            save_skill(project, skill)
            print(f"{skill.id}: merged into v{skill.version}")
        local[skill.id] = skill
        by_key[skill.key] = skill
    return 0


def merge_skill(mine: Skill, theirs: Skill, why: str) -> Skill:
    """`mine` with `theirs`'s new evidence and tags; `mine` itself when nothing is new."""
    known = {(e.run, e.iteration, e.commit) for e in mine.evidence}
    new = [e for e in theirs.evidence if (e.run, e.iteration, e.commit) not in known]
    tags = tuple(dict.fromkeys((*mine.tags, *theirs.tags)))
    if not new and tags == mine.tags:
        return mine
    a, b = mine.usage, theirs.usage
    usage = a if a.applications >= b.applications else Usage(
        b.applications, b.successes, b.since_success, b.recent)
    return mine.bumped(f"{why}: {len(new)} new evidence", evidence=(*mine.evidence, *new),
                       tags=tags, usage=usage)
