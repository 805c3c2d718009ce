"""Skill accumulation: proven patterns become versioned skills, recurring failures lessons.

`Learner` is what the loop calls; `library` reads and writes `.ladder/skills/`; `extract`
finds the pattern of a change, `deletion` a statement deleted from a function; `policy`
injects, weighs and deprecates skills; `failures` turns a failure seen twice into a
lesson, with the rule, cases and id `synth` makes from the failing diffs.
docs/skills.md tells the story.
"""

from __future__ import annotations

from ladder.agent.skills.learner import Event, Guidance, Learner
from ladder.agent.skills.model import Evidence, Skill, Usage, Version, pattern_key

__all__ = ["Event", "Evidence", "Guidance", "Learner", "Skill", "Usage", "Version", "pattern_key"]
