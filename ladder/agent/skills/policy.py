"""The learning policy: which skills to inject, how hard to lean on them, when to drop one.

Each skill's chance of success is a Beta posterior over its usage: Beta(1 + successes,
1 + failures). The run's base rate -- keeps per evaluation -- is the posterior of
"any other change": Beta(1 + kept, PRIOR_MISSES + evaluated - kept), whose prior says a
blind change is kept about one time in five until the run has its own numbers.

- Mutation weights (Thompson sampling): every iteration draws one success rate per
  skill and one for the base; a skill's sites weigh (its draw / the base's) ** POWER,
  clipped to [FLOOR, CAP]. Every other site weighs 1, so the search always explores,
  and a skill whose draw loses to the base is down-weighted, never ruled out.
- The prompt section of text proposers: active skills ranked by how many of their tags
  the run shares, then by posterior mean, within MAX_SKILLS and MAX_CHARS.
- Deprecation: a skill whose last applications (since its last verified keep) worsened
  the target, significantly (one-sided t-test, or a run of failures a sign test finds
  unlikely), has reversed; a skill whose success rate sits below the run's base rate
  with DEPRECATE_CONFIDENCE has gone stale. Either way it stops being injected, and a
  new verified keep of its pattern reinstates it.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Iterable, Mapping, Sequence

from ladder.agent.skills.model import Skill

POWER = 2.0
FLOOR = 0.2  # the least weight a skill's sites get: never switched off
CAP = 1000.0
PRIOR_MISSES = 4.0  # base-rate prior Beta(1, 4): one keep in five, worth five evaluations
NUMERIC_OPERATORS = ("scale", "shift")

ALPHA = 0.05  # the deprecation tests' level
MIN_REVERSAL = 3  # applications since the last success before reversal is judged
MIN_BASE_EVALUATED = 10  # evaluations before the run's base rate is trusted
MIN_BASE_APPLICATIONS = 5
DEPRECATE_CONFIDENCE = 0.95

MAX_SKILLS = 8
MAX_CHARS = 4000


def posterior_mean(skill: Skill) -> float:
    u = skill.usage
    return (1 + u.successes) / (2 + u.applications)


def operator_weights(
    skills: Sequence[Skill],
    base: Mapping[str, float],
    kept: int,
    evaluated: int,
    rng: random.Random,
    failed: Iterable[str] = (),
) -> dict[str, float] | None:
    """Weights for the mutate proposer: `base` (the user's per-operator weights) plus one
    `operator:symbol:direction` key per active mutate skill, by Thompson sampling, and
    FLOOR for the `failed` keys (moves that crashed once and are not a lesson yet)
    that no skill vouches for."""
    mutating = [s for s in skills if s.active and s.pattern.get("kind") == "mutate"]
    avoid = list(failed)
    if not mutating and not avoid:
        return dict(base) or None
    out = dict(base)
    for key in avoid:
        out[key] = FLOOR
    if not mutating:
        return out
    theta0 = rng.betavariate(1 + kept, PRIOR_MISSES + max(0, evaluated - kept))
    for skill in sorted(mutating, key=lambda s: s.id):  # a stable order: reproducible draws
        u = skill.usage
        theta = rng.betavariate(1 + u.successes, 1 + u.failures)
        weight = min(CAP, max(FLOOR, (theta / max(theta0, 1e-9)) ** POWER))
        for key in site_keys(skill):
            out[key] = weight if key in avoid else max(out.get(key, 0.0), weight)
    return out


def site_keys(skill: Skill) -> list[str]:
    """The mutate proposer's weight keys a mutate skill applies to."""
    p = skill.pattern
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


def deprecation_reason(skill: Skill, kept: int, evaluated: int) -> str:
    """Why `skill` should be deprecated now ("" when it should not)."""
    return _reversed(skill) or _below_base(skill, kept, evaluated)


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


def _below_base(skill: Skill, kept: int, evaluated: int) -> str:
    u = skill.usage
    if evaluated < MIN_BASE_EVALUATED or u.applications < MIN_BASE_APPLICATIONS:
        return ""
    base = kept / evaluated
    from scipy.stats import beta

    confidence = float(beta.cdf(base, 1 + u.successes, 1 + u.failures))
    if confidence < DEPRECATE_CONFIDENCE:
        return ""
    return (f"success rate {u.successes}/{u.applications} is below the run's base rate "
            f"{base:.2f} ({kept}/{evaluated}) with {confidence:.0%} confidence")


def one_sided_p(values: Sequence[float]) -> float:
    """p of a one-sided t-test that the mean of `values` is below zero."""
    n = len(values)
    mean = statistics.fmean(values)
    sd = statistics.stdev(values) if n > 1 else 0.0
    if sd == 0 or not math.isfinite(sd):
        return 0.0 if mean < 0 else 1.0
    from scipy.stats import t

    return float(t.cdf(mean / (sd / math.sqrt(n)), n - 1))
