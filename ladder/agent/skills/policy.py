"""The learning policy: which skills to inject, how hard to lean on them, when to drop one.

Each skill's chance of success is a Beta posterior over its usage: Beta(1 + successes,
1 + failures). The run's base rate -- keeps per exploration, a proposal that applied no
skill -- is the posterior of "any other change": Beta(1 + found, PRIOR_MISSES + explored
- found), whose prior says a blind change is kept about one time in five until the run
has its own numbers.

- Mutation focus (Thompson sampling): every iteration draws one success rate per
  skill and one for the "explore" arm (Beta over the run's explorations: proposals
  that applied no skill, with the same prior as the base rate). With probability
  EXPLORE, or when the explore arm's draw wins, the proposer explores: coverage first, uniform over sites, the
  user's weights. Otherwise it applies the winning skill: its sites and direction only
  (the best draw among the skills that still have an untried site).
  So a proven skill is exploited in proportion to the chance it is the best arm, a
  skill whose record falls below the base loses its turns, and the search never stops
  exploring. When exploring, moves that crashed once and are not a lesson yet weigh
  FLOOR, and moves earlier runs of the repository tried without a keep weigh SPENT:
  a later run explores new ground first instead of re-trying what already failed.
- The prompt section of text proposers: active skills ranked by how many of their tags
  the run shares, then by posterior mean, within MAX_SKILLS and MAX_CHARS.
- Deprecation: a skill whose last applications (since its last verified keep) worsened
  the target, significantly (one-sided t-test, or a run of failures a sign test finds
  unlikely), has reversed; a skill whose success rate sits below the run's base rate
  (keeps per exploration: what a change achieves without the library) with
  DEPRECATE_CONFIDENCE has gone stale. Either way it stops being injected, and a
  new verified keep of its pattern reinstates it.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Iterable, Mapping, Sequence

from ladder.agent.records import Focus
from ladder.agent.skills.model import Skill

EXPLORE = 0.1  # the least share of proposals that explore, whatever the skills' record
FLOOR = 0.2  # the weight of a move that crashed once, when exploring: tried less, not never
SPENT = 0.2  # ... and of one earlier runs tried without a keep: the crude loop's re-tries
PRIOR_MISSES = 4.0  # base-rate prior Beta(1, 4): one keep in five, worth five evaluations
NUMERIC_OPERATORS = ("scale", "shift")

ALPHA = 0.05  # the deprecation tests' level
MIN_REVERSAL = 3  # applications since the last success before reversal is judged
MIN_BASE_EVALUATED = 10  # explorations before the run's base rate is trusted
MIN_BASE_APPLICATIONS = 5
DEPRECATE_CONFIDENCE = 0.95

MAX_SKILLS = 8
MAX_CHARS = 4000


def posterior_mean(skill: Skill) -> float:
    u = skill.usage
    return (1 + u.successes) / (2 + u.applications)


def operator_weights(
    base: Mapping[str, float], failed: Iterable[str] = (), spent: Iterable[str] = (),
) -> dict[str, float] | None:
    """Weights for the mutate proposer when it explores: `base` (the user's per-operator
    weights), FLOOR for the `failed` keys (moves that crashed once and are not a lesson
    yet) and SPENT for the `spent` ones (moves earlier runs tried without a keep: new
    ground first). None when all are empty: the proposer's own."""
    out = dict(base)
    for key in spent:
        out[key] = min(out.get(key, 1.0), SPENT)
    for key in failed:
        out[key] = min(out.get(key, 1.0), FLOOR)
    return out or None


def focus(
    skills: Sequence[Skill], found: int, explored: int, rng: random.Random,
    explore: float = EXPLORE,
) -> list[Skill]:
    """The skills to apply this iteration (Thompson sampling): those whose draw beats
    the explore arm's, best draw first; [] to explore. The explore arm's posterior is
    over the run's explorations (`found` keeps in `explored` evaluations of proposals
    that applied no skill). The proposer applies the first skill that still has an
    untried site -- a saturated skill (its flag already set) is no arm."""
    mutating = sorted((s for s in skills if s.active and s.pattern.get("kind") == "mutate"),
                      key=lambda s: s.id)  # a stable order: reproducible draws
    if not mutating or rng.random() < explore:
        return []
    base = rng.betavariate(1 + found, PRIOR_MISSES + max(0, explored - found))
    draws = [(rng.betavariate(1 + s.usage.successes, 1 + s.usage.failures), s) for s in mutating]
    return [s for theta, s in sorted(draws, key=lambda d: -d[0]) if theta > base]


def focus_of(skill: Skill) -> Focus:
    """What the mutate proposer needs to apply `skill`."""
    ratio = skill.pattern.get("ratio")
    typical = float(ratio) if isinstance(ratio, (int, float)) and ratio > 0 else None
    return Focus(tuple(pattern_keys(skill.pattern)), typical)


def pattern_keys(p: Mapping[str, object]) -> list[str]:
    """The mutate proposer's weight keys of a mutate pattern (scale and shift alike)."""
    change = str(p.get("change", ""))
    operators = NUMERIC_OPERATORS if change == "number" else (change,)
    return [f"{op}:{p.get('symbol', '')}:{p.get('direction', '')}" for op in operators]


# --- the prompt section ------------------------------------------------------------------


def skills_text(skills: Sequence[Skill], run_tags: Iterable[str]) -> str:
    """The bounded prompt section of the most relevant active skills ("" when none)."""
    tags = {t.lower() for t in run_tags}
    active = [s for s in skills if s.active]
    if not active:
        return ""
    ranked = sorted(active, key=lambda s: (-len(tags & set(s.tags)), -posterior_mean(s), s.id))
    head = ("## Skills (changes verified to help in earlier runs; most relevant first)\n\n"
            "Lean on them, but check they fit this code: each is a pattern, not an order.\n\n")
    lines: list[str] = []
    size = len(head)
    for skill in ranked[:MAX_SKILLS]:
        line = skill_line(skill)
        if size + len(line) + 1 > MAX_CHARS:
            break
        lines.append(line)
        size += len(line) + 1
    return head + "\n".join(lines) + "\n"


def skill_line(skill: Skill) -> str:
    u = skill.usage
    effects = [e.effect for e in skill.evidence]
    effect = f"; typical effect {statistics.median(effects):+.4g}" if effects else ""
    example = next((e.description for e in reversed(skill.evidence) if e.description), "")
    example = f'; e.g. "{_one_line(example, 120)}"' if example else ""
    return (f"- {skill.title} [{skill.id} v{skill.version}, verified {u.successes} of "
            f"{u.applications} applications{effect}]{example}")


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


# --- deprecation -------------------------------------------------------------------------


def deprecation_reason(skill: Skill, found: int, explored: int) -> str:
    """Why `skill` should be deprecated now ("" when it should not). The run's base
    rate is `found` keeps in `explored` explorations: what a change achieves without
    the library. (Keeps per evaluation would count the skills' own keeps, so a run
    going well on its skills would deprecate the very skills it goes well on.)"""
    return _reversed(skill) or _below_base(skill, found, explored)


def _reversed(skill: Skill) -> str:
    u = skill.usage
    if u.since_success < MIN_REVERSAL:
        return ""
    recent = list(u.recent)
    if len(recent) >= MIN_REVERSAL:
        p = one_sided_p(recent)
        if p < ALPHA:
            return (f"effect reversed: its last {len(recent)} applications changed the target "
                    f"by {statistics.fmean(recent):+.4g} on average (one-sided t-test p = {p:.3g})")
    p_sign = 0.5 ** u.since_success
    if p_sign < ALPHA and all(x <= 0 for x in recent):
        return (f"no longer replicates: its last {u.since_success} applications all failed "
                f"(sign test p = {p_sign:.3g})")
    return ""


def _below_base(skill: Skill, found: int, explored: int) -> str:
    u = skill.usage
    if explored < MIN_BASE_EVALUATED or u.applications < MIN_BASE_APPLICATIONS:
        return ""
    base = found / explored
    from scipy.stats import beta

    confidence = float(beta.cdf(base, 1 + u.successes, 1 + u.failures))
    if confidence < DEPRECATE_CONFIDENCE:
        return ""
    return (f"success rate {u.successes}/{u.applications} is below the run's base rate "
            f"{base:.2f} ({found} keeps in {explored} explorations) with {confidence:.0%} "
            f"confidence")


def one_sided_p(values: Sequence[float]) -> float:
    """p of a one-sided t-test that the mean of `values` is below zero."""
    n = len(values)
    mean = statistics.fmean(values)
    sd = statistics.stdev(values) if n > 1 else 0.0
    if sd == 0 or not math.isfinite(sd):
        return 0.0 if mean < 0 else 1.0
    from scipy.stats import t

    return float(t.cdf(mean / (sd / math.sqrt(n)), n - 1))
