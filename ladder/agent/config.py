"""The agent's configuration: `[tool.ladder.agent]` in pyproject.toml or `.ladder/agent.toml`.

The dataclasses are the contract every part of the loop reads; `load_agent_config`
validates the TOML into them (unknown keys and wrong types are errors naming the key).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from ladder import _toml
from ladder.agent.evaluate import SECONDS
from ladder.errors import LadderError

if TYPE_CHECKING:
    from ladder.project import Project


@dataclass(frozen=True)
class MetricSpec:
    name: str
    direction: Literal["min", "max"] = "min"
    role: Literal["target", "guard"] = "target"
    margin: float = 0.0  # guard: relative regression tolerated (0.05 = 5%)
    bounds: tuple[float | None, float | None] = (None, None)  # plausible values
    trusted: bool = False  # must come from the protected scorer (`score`), not the candidate

    def better(self, new: float, old: float) -> bool:
        return new < old if self.direction == "min" else new > old

    def improvement(self, new: float, old: float) -> float:
        """Positive when `new` is better than `old`, in the metric's units."""
        return old - new if self.direction == "min" else new - old


@dataclass(frozen=True)
class ProposerSpec:
    kind: str = "mutate"  # mutate | command | llm
    options: Mapping[str, Any] = field(default_factory=dict)  # cmd, base_url, model, api_key_env...


@dataclass(frozen=True)
class VerifySettings:
    """`[tool.ladder.agent.verify]`: the verified decision (ladder.agent.decisions.verified).

    Each key is explained, with its reference, in docs/verification.md.
    """

    fdr: float = 0.05  # the run's target false-discovery rate (ADDIS)
    addis_tau: float = 0.5  # ADDIS: p-values above this are discarded (cost no alpha)
    addis_lambda: float = 0.25  # ADDIS: p-values at or below this are candidates
    spending: float = -2.0  # Hwang-Shih-DeCani gamma of the alpha spending over the looks
    futility: float = 0.5  # a look drops the candidate when its one-sided p is at least this
    futility_power: float = 0.1  # ... or when even its optimistic effect has less power
    min_effect: float | None = None  # None: the calibrated noise floor of the target
    z_threshold: float = 3.5  # robust z of an effect against the run's history: large
    revalidate_every: int = 10  # keeps between re-validations of the best (0: at the end only)
    on_converged: str = "stop"  # or "explore": journal the convergence and keep searching
    guard_alpha: float = 0.05  # level of each guard's non-inferiority test
    tracked_alpha: float = 0.01  # two-sided level at which an undeclared metric's move is shown
    time_collapse: float = 0.25  # candidate/parent evaluation time below this: work skipped
    min_history: int = 8  # evaluated candidates before the robust z is computed
    patience: int = 30  # evaluated candidates without a keep before convergence is possible


@dataclass(frozen=True)
class SandboxSettings:
    """`[tool.ladder.agent.sandbox]`: how the untrusted processes are confined
    (ladder.sandbox; what each mode defends: docs/security.md)."""

    mode: str = "auto"  # auto | userns | none
    writable: tuple[str, ...] = ()  # more paths they may write (e.g. "~/.cache/huggingface")
    hidden: tuple[str, ...] = ()  # paths only the scorer may read (validation labels)
    network: bool = False  # the evaluations' network (the command proposer always has it)


@dataclass(frozen=True)
class RaySettings:
    """`[tool.ladder.agent.ray]`: where `executor = "ray"` sends the evaluations, and what
    each one asks of the cluster (ladder.agent.executors.ray_cluster; docs/ray.md)."""

    address: str | None = None  # None: $RAY_ADDRESS, else a local instance; "auto"; "ray://..."
    num_cpus: float = 1.0  # per evaluation
    num_gpus: float = 0.0  # per evaluation (1: one GPU each, CUDA_VISIBLE_DEVICES set by Ray)
    resources: Mapping[str, float] = field(default_factory=dict)  # custom resources per evaluation
    max_retries: int = 2  # an evaluation a lost node took down runs again elsewhere, this often
    grace: float = 300.0  # seconds past an evaluation's own timeout before the driver cancels it


@dataclass(frozen=True)
class AgentConfig:
    editable: tuple[str, ...]  # globs; everything else is protected
    eval: str  # the evaluation command, run in the candidate's worktree
    metrics: Mapping[str, MetricSpec]
    score: str = ""  # the protected scorer, run from the run's baseline after `eval` exits
    timeout: float = 600.0  # seconds per evaluation
    seeds: int = 10  # most paired seeds per decision (most decisions use one or two)
    iterations: int | None = 100
    hours: float | None = None
    evaluations: int | None = None  # single evaluations (what a GPU user pays for)
    proposer: ProposerSpec = field(default_factory=ProposerSpec)
    strategy: str = "auto"  # hill | population | evolve | auto
    executor: str = "local"
    workers: int = 1
    # None: share unless a metric is ladder's own wall time (`seconds`), which must be
    # measured with parent and candidate side by side under the same machine load.
    reuse_parent: bool | None = None
    gates: tuple[str, ...] = ()  # commands run after the hooks, before evaluation
    pass_env: tuple[str, ...] = ()  # secret-looking variables the evaluation may still see
    seed: int = 0  # the run's random seed (proposals, parent choice, evaluation seeds)
    decision: str = "verified"  # a name in ladder.agent.decisions.DECISIONS; crude: one seed
    verify: VerifySettings = field(default_factory=VerifySettings)
    sandbox: SandboxSettings = field(default_factory=SandboxSettings)
    ray: RaySettings = field(default_factory=RaySettings)  # read with executor = "ray" only
    # Failure lessons the run teaches climb automatically up to this level (0: off).
    learn_promote: int = 5
    # Read and grow the skill library and teach failure lessons; false: a memoryless run
    # (the crude loop's memory, for comparison or a controlled experiment).
    learn: bool = True

    @property
    def target(self) -> MetricSpec:
        return next(m for m in self.metrics.values() if m.role == "target")

    @property
    def guards(self) -> tuple[MetricSpec, ...]:
        return tuple(m for m in self.metrics.values() if m.role == "guard")

    @property
    def shares_parent(self) -> bool:
        """Whether a parent's evaluations on its seeds serve every candidate compared
        with it (each look then costs the candidate's evaluations only)."""
        if self.reuse_parent is not None:
            return self.reuse_parent
        return SECONDS not in self.metrics


# --- loading -------------------------------------------------------------------------
#
# Where the table lives, first found wins: `.ladder/agent.toml` (its top level, or an
# `[agent]` table), else the `agent` sub-table of the project's configuration, i.e.
# `[agent]` in `.ladder/config.toml` or `[tool.ladder.agent]` in pyproject.toml.
#
# Every error names the key by its dotted path in the file it came from
# (`tool.ladder.agent.metrics.val_loss.direction`), so a user can find it with a search.

AGENT_FILE = "agent.toml"  # under .ladder/
STRATEGIES = ("hill", "population", "evolve", "auto")
EXECUTORS = ("local", "ray")
DECISIONS = ("verified", "crude")
# Names an older configuration may use for a decision, and what they mean now.
DECISION_ALIASES = {"paired": "verified"}
DEFAULT_ITERATIONS = 100

MINIMAL_EXAMPLE = """\
[tool.ladder.agent]            # in pyproject.toml; or the same keys at the top of .ladder/agent.toml
editable = ["train.py"]
eval = "python train.py"
# score = "python score.py"    # a protected scorer: metrics the candidate cannot forge (docs/agent.md)
[tool.ladder.agent.metrics.val_bpb]
direction = "min"
role = "target\""""

# Options each proposer kind accepts: name -> (type check, required). A new proposer
# kind adds its row here; unknown options are errors like every other key.
_OptionCheck = tuple[str, bool]  # (kind of value, required)
PROPOSER_OPTIONS: dict[str, dict[str, _OptionCheck]] = {
    "mutate": {"weights": ("table", False), "target": ("string", False)},
    "command": {
        "cmd": ("string", True),
        "timeout": ("number", False),
        "env": ("table", False),
        "target": ("string", False),
    },
    "llm": {
        "base_url": ("string", True),
        "model": ("string", True),
        "api_key_env": ("string", False),
        "temperature": ("number", False),
        "max_tokens": ("number", False),
        "timeout": ("number", False),
        "target": ("string", False),
    },
}

_TOP_KEYS = (
    "editable",
    "eval",
    "score",
    "metrics",
    "timeout",
    "seeds",
    "iterations",
    "hours",
    "evaluations",
    "proposer",
    "strategy",
    "executor",
    "workers",
    "reuse_parent",
    "gates",
    "pass_env",
    "seed",
    "decision",
    "verify",
    "sandbox",
    "ray",
    "learn_promote",
    "learn",
)
_METRIC_KEYS = ("direction", "role", "margin", "bounds", "min", "max", "trusted")
_METRIC_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


@dataclass(frozen=True)
class _Where:
    """The file a table came from and the dotted path of the table in it."""

    file: str
    prefix: str  # "tool.ladder.agent", "agent" or "" (top level of .ladder/agent.toml)

    def key(self, *parts: str) -> str:
        return ".".join(p for p in (self.prefix, *parts) if p)

    def error(self, what: str, todo: str = "") -> LadderError:
        return LadderError(what, where=self.file, todo=todo)


@dataclass(frozen=True)
class ConfigSource:
    """What a configuration is made from: the table as read and the command line's flags.
    A run journals it at start, so a resume rebuilds the same configuration (pinned.py)."""

    table: Mapping[str, Any]
    file: str
    prefix: str
    overrides: Mapping[str, Any] = field(default_factory=dict)

    def config(self) -> AgentConfig:
        config = parse_agent_config(self.table, _Where(self.file, self.prefix))
        return apply_overrides(config, self.overrides, iterations_set="iterations" in self.table)

    def as_dict(self) -> dict[str, Any]:
        return {"table": dict(self.table), "file": self.file, "prefix": self.prefix,
                "overrides": dict(self.overrides)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ConfigSource:
        return cls(dict(data["table"]), str(data["file"]), str(data["prefix"]),
                   dict(data.get("overrides") or {}))


def config_source(project: Project, overrides: Mapping[str, Any] | None = None) -> ConfigSource:
    """The configuration's source in `project`, flags given (None values dropped)."""
    raw, where = _find_table(project)
    flags = {k: v for k, v in (overrides or {}).items() if v is not None}
    return ConfigSource(raw, where.file, where.prefix, flags)


def load_agent_config(project: Project, overrides: Mapping[str, Any] | None = None) -> AgentConfig:
    """The run's configuration, validated; `overrides` are command-line flags.

    Override keys are the top-level keys (`iterations`, `strategy`, `seed`, `workers`,
    `hours`, ...) plus `crude` (True sets `decision = "crude"`); a None value means "flag
    not given". They are checked like the file's keys, and named as `--flag`.
    """
    return config_source(project, overrides).config()


def parse_agent_config(raw: Mapping[str, Any], where: _Where) -> AgentConfig:
    _no_unknown(raw, _TOP_KEYS, where, ())
    for required in ("editable", "eval", "metrics"):
        if required not in raw:
            raise where.error(
                f"missing key {where.key(required)!r}",
                todo=f"add it; a minimal configuration:\n{MINIMAL_EXAMPLE}",
            )
    kwargs: dict[str, Any] = {
        "editable": _editable(raw["editable"], where.key("editable"), where),
        "eval": _string(raw["eval"], where.key("eval"), where),
        "metrics": _metrics(raw["metrics"], where),
    }
    for key, value in raw.items():
        if key not in ("editable", "eval", "metrics"):
            kwargs[key] = _scalar(key, value, where.key(key), where)
    untrusted = [m.name for m in kwargs["metrics"].values() if m.trusted]
    if untrusted and not kwargs.get("score"):
        raise where.error(
            f"metric {where.key('metrics', untrusted[0])!r} is trusted = true, but no `score` "
            "command is configured",
            todo="add score = \"...\": a scorer taken from the baseline that reads what the "
                 "candidate produced ($LADDER_CANDIDATE_DIR) and writes $LADDER_SCORE_FILE",
        )
    if "ray" in kwargs and kwargs.get("executor", "local") != "ray":
        raise where.error(
            f"table {where.key('ray')!r} applies to executor = \"ray\" only",
            todo='set executor = "ray" to send the evaluations to a Ray cluster, or remove the table',
        )
    if ("hours" in kwargs or "evaluations" in kwargs) and "iterations" not in kwargs:
        # `hours = 8` alone means "run for eight hours", not "100 iterations or 8 hours";
        # `evaluations = 400` alone means "spend 400 evaluations".
        kwargs["iterations"] = None
    return AgentConfig(**kwargs)


def apply_overrides(
    config: AgentConfig, overrides: Mapping[str, Any], *, iterations_set: bool = True
) -> AgentConfig:
    """`config` with the command line's flags; `iterations_set`: whether the file set
    `iterations` (when it did not, `--hours` or `--evaluations` alone replace its default
    of 100 iterations, as they do in the file)."""
    changes: dict[str, Any] = {}
    where = _Where("the command line", "")
    for key, value in overrides.items():
        if value is None:
            continue
        flag = "--" + key.replace("_", "-")
        if key == "crude":
            if not isinstance(value, bool):
                raise where.error(f"option {flag} must be a flag (true or false)")
            if value:
                changes["decision"] = "crude"
            continue
        if key in ("metrics", "editable") or key not in _TOP_KEYS:
            raise where.error(
                f"unknown option {flag}",
                todo="options that override the configuration: "
                + ", ".join(f"--{k.replace('_', '-')}" for k in _OVERRIDABLE),
            )
        if key == "sandbox" and isinstance(value, str):  # --sandbox MODE
            mode = _choice(value, SANDBOX_MODES, flag, where)
            changes[key] = replace(changes.get(key, config.sandbox), mode=mode)
            continue
        changes[key] = (
            _string(value, flag, where) if key == "eval" else _scalar(key, value, flag, where)
        )
    budget = "hours" in changes or "evaluations" in changes
    if budget and "iterations" not in changes and not iterations_set:
        changes["iterations"] = None
    return replace(config, **changes) if changes else config


_OVERRIDABLE = (*(k for k in _TOP_KEYS if k not in ("metrics", "editable")), "crude")


# --- finding the table -----------------------------------------------------------------


def _find_table(project: Project) -> tuple[Mapping[str, Any], _Where]:
    own = project.ladder_dir / AGENT_FILE
    if own.is_file():
        data = _toml.load(own)
        if set(data) == {"agent"} and isinstance(data["agent"], dict):
            return data["agent"], _Where(str(own), "agent")
        if "agent" in data and isinstance(data["agent"], dict):
            other = sorted(k for k in data if k != "agent")[0]
            raise LadderError(
                f"key {other!r} is outside the [agent] table",
                where=str(own),
                todo="put every key either at the top level or under [agent], not both",
            )
        return data, _Where(str(own), "")
    table = project.config.extra.get("agent")
    own_config = project.ladder_dir / "config.toml"
    pyproject = project.root / "pyproject.toml"
    if own_config.is_file():  # Project.config read .ladder/config.toml, not pyproject.toml
        where = _Where(str(own_config), "agent")
        if table is None and pyproject.is_file():
            # .ladder/config.toml hides [tool.ladder] from Project.config; the agent's
            # own table in pyproject.toml still counts.
            tool = _toml.load(pyproject).get("tool", {})
            ladder = tool.get("ladder", {}) if isinstance(tool, dict) else {}
            table = ladder.get("agent") if isinstance(ladder, dict) else None
            where = _Where(str(pyproject), "tool.ladder.agent")
    else:
        where = _Where(str(pyproject), "tool.ladder.agent")
    if table is None:
        raise LadderError(
            "the agent is not configured",
            where=str(project.root),
            todo=f"add a [tool.ladder.agent] table to pyproject.toml or create "
            f".ladder/{AGENT_FILE}; a minimal configuration:\n{MINIMAL_EXAMPLE}",
        )
    if not isinstance(table, dict):
        raise where.error(f"key {where.prefix!r} must be a table")
    return table, where


# --- checks ----------------------------------------------------------------------------


def _no_unknown(
    table: Mapping[str, Any], known: Sequence[str], where: _Where, path: tuple[str, ...]
) -> None:
    for key in table:
        if key not in known:
            raise where.error(
                f"unknown key {where.key(*path, key)!r}", todo=f"known keys: {', '.join(known)}"
            )


def _type_error(path: str, wanted: str, value: Any, where: _Where) -> LadderError:
    return where.error(f"key {path!r} must be {wanted}, got {value!r}")


def _string(value: Any, path: str, where: _Where) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _type_error(path, "a non-empty string", value, where)
    return value


def _strings(value: Any, path: str, where: _Where) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _type_error(path, "a list of non-empty strings", value, where)
    return tuple(value)


def _editable(value: Any, path: str, where: _Where) -> tuple[str, ...]:
    globs = _strings(value, path, where)
    if not globs:
        raise where.error(
            f"key {path!r} is empty: nothing could be changed",
            todo='list the files the agent may edit, e.g. editable = ["train.py"]',
        )
    return globs


def _number(value: Any, path: str, where: _Where, *, positive: bool) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or value != value or (positive and value <= 0) or (not positive and value < 0):
        wanted = "a positive number" if positive else "a number >= 0"
        raise _type_error(path, wanted, value, where)
    return float(value)


def _integer(value: Any, path: str, where: _Where, *, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        wanted = "a positive integer" if least == 1 else f"an integer >= {least}"
        raise _type_error(path, wanted, value, where)
    return value


def _choice(value: Any, choices: Sequence[str], path: str, where: _Where) -> str:
    if value not in choices:
        raise _type_error(path, "one of " + ", ".join(repr(c) for c in choices), value, where)
    return str(value)


def _scalar(key: str, value: Any, path: str, where: _Where) -> Any:
    """One top-level key other than editable/metrics, converted to the dataclass type."""
    if key in ("eval", "score"):
        return _string(value, path, where)
    if key in ("timeout", "hours"):
        return _number(value, path, where, positive=True)
    if key in ("seeds", "iterations", "workers", "evaluations"):
        return _integer(value, path, where, least=1)
    if key == "seed":
        return _integer(value, path, where, least=0)
    if key in ("gates", "pass_env"):
        return _strings(value, path, where)
    if key == "strategy":
        return _choice(value, STRATEGIES, path, where)
    if key == "executor":
        return _choice(value, EXECUTORS, path, where)
    if key == "decision":
        return _choice(DECISION_ALIASES.get(value, value), DECISIONS, path, where)
    if key == "proposer":
        return _proposer(value, path, where)
    if key == "verify":
        return _verify(value, path, where)
    if key == "sandbox":
        return _sandbox(value, path, where)
    if key == "ray":
        return _ray(value, path, where)
    if key in ("learn", "reuse_parent"):
        if not isinstance(value, bool):
            raise _type_error(path, "true or false", value, where)
        return value
    if key == "learn_promote":
        number = _integer(value, path, where, least=0)
        if number > 5:
            raise _type_error(path, "a level from 0 (off) to 5", value, where)
        return number
    raise AssertionError(key)  # pragma: no cover - _no_unknown ran first


# key -> (kind, least): "prob" is a number in (0, 1), "int" an integer >= least,
# "number" a number >= 0, "choice" one of ON_CONVERGED.
_VERIFY_KEYS: dict[str, tuple[str, int]] = {
    "fdr": ("prob", 0),
    "addis_tau": ("prob1", 0),
    "addis_lambda": ("prob", 0),
    "spending": ("real", 0),
    "futility": ("prob1", 0),
    "futility_power": ("prob", 0),
    "min_effect": ("number", 0),
    "z_threshold": ("positive", 0),
    "revalidate_every": ("int", 0),
    "on_converged": ("choice", 0),
    "guard_alpha": ("prob", 0),
    "tracked_alpha": ("prob", 0),
    "time_collapse": ("number", 0),
    "min_history": ("int", 2),
    "patience": ("int", 1),
}
ON_CONVERGED = ("stop", "explore")
SANDBOX_MODES = ("auto", "userns", "none")
# Keys of the two-stage test (screen, then confirmation) that the sequential test replaced.
_REMOVED_VERIFY_KEYS = {
    "first_stage": "the sequential test looks after every seed",
    "min_confirm": "the sequential test looks after every seed",
    "power": "the sequential test stops as soon as the answer is known",
    "horizon": "ADDIS replaced LORD++ (see docs/verification.md)",
}


def _verify(value: Any, path: str, where: _Where) -> VerifySettings:
    if not isinstance(value, dict):
        raise _type_error(path, "a table", value, where)
    for key in value:
        if key in _REMOVED_VERIFY_KEYS:
            raise where.error(
                f"key '{path}.{key}' is no longer used: {_REMOVED_VERIFY_KEYS[key]}",
                todo="remove it; docs/verification.md lists the settings",
            )
        if key not in _VERIFY_KEYS:
            raise where.error(
                f"unknown key '{path}.{key}'", todo=f"known keys: {', '.join(_VERIFY_KEYS)}"
            )
    kwargs: dict[str, Any] = {}
    for key, option in value.items():
        kind, least = _VERIFY_KEYS[key]
        key_path = f"{path}.{key}"
        if kind == "int":
            kwargs[key] = _integer(option, key_path, where, least=least)
        elif kind == "choice":
            kwargs[key] = _choice(option, ON_CONVERGED, key_path, where)
        elif kind == "real":
            kwargs[key] = _finite(option, key_path, where)
        else:
            number = _number(option, key_path, where, positive=kind != "number")
            too_big = number >= 1 if kind == "prob" else kind == "prob1" and number > 1
            if too_big:
                raise _type_error(key_path, "a number between 0 and 1", option, where)
            kwargs[key] = number
    settings = VerifySettings(**kwargs)
    if settings.addis_lambda >= settings.addis_tau:
        raise where.error(
            f"key '{path}.addis_lambda' ({settings.addis_lambda:g}) must be below "
            f"'{path}.addis_tau' ({settings.addis_tau:g})",
            todo="ADDIS needs lambda < tau; the defaults are 0.25 and 0.5",
        )
    return settings


def _sandbox(value: Any, path: str, where: _Where) -> SandboxSettings:
    if not isinstance(value, dict):
        raise _type_error(path, "a table", value, where)
    known = ("mode", "writable", "hidden", "network")
    for key in value:
        if key not in known:
            raise where.error(f"unknown key '{path}.{key}'", todo=f"known keys: {', '.join(known)}")
    network = value.get("network", False)
    if not isinstance(network, bool):
        raise _type_error(f"{path}.network", "true or false", network, where)
    return SandboxSettings(
        mode=_choice(value.get("mode", "auto"), SANDBOX_MODES, f"{path}.mode", where),
        writable=_strings(value.get("writable", []), f"{path}.writable", where),
        hidden=_strings(value.get("hidden", []), f"{path}.hidden", where),
        network=network,
    )


_RAY_KEYS = ("address", "num_cpus", "num_gpus", "resources", "max_retries", "grace")


def _ray(value: Any, path: str, where: _Where) -> RaySettings:
    if not isinstance(value, dict):
        raise _type_error(path, "a table", value, where)
    for key in value:
        if key not in _RAY_KEYS:
            raise where.error(f"unknown key '{path}.{key}'", todo=f"known keys: {', '.join(_RAY_KEYS)}")
    kwargs: dict[str, Any] = {}
    if "address" in value:
        kwargs["address"] = _string(value["address"], f"{path}.address", where)
    if "num_cpus" in value:
        kwargs["num_cpus"] = _number(value["num_cpus"], f"{path}.num_cpus", where, positive=False)
    if "num_gpus" in value:
        kwargs["num_gpus"] = _number(value["num_gpus"], f"{path}.num_gpus", where, positive=False)
    if "max_retries" in value:
        kwargs["max_retries"] = _integer(value["max_retries"], f"{path}.max_retries", where, least=0)
    if "grace" in value:
        kwargs["grace"] = _number(value["grace"], f"{path}.grace", where, positive=False)
    if "resources" in value:
        table = value["resources"]
        if not isinstance(table, dict):
            raise _type_error(f"{path}.resources", "a table of resource = amount", table, where)
        kwargs["resources"] = {str(name): _number(amount, f"{path}.resources.{name}", where,
                                                  positive=True)
                               for name, amount in table.items()}
    return RaySettings(**kwargs)


def _metrics(value: Any, where: _Where) -> dict[str, MetricSpec]:
    path = where.key("metrics")
    if not isinstance(value, dict) or not value:
        raise where.error(
            f"key {path!r} must be a table of metric tables",
            todo=f"declare the target metric, e.g.\n{MINIMAL_EXAMPLE}",
        )
    metrics = {name: _metric(name, spec, where) for name, spec in value.items()}
    targets = [m.name for m in metrics.values() if m.role == "target"]
    if len(targets) != 1:
        found = ", ".join(where.key("metrics", t) for t in targets) or "none"
        raise where.error(
            f"exactly one metric must have role = 'target' (found: {found})",
            todo="set role = 'guard' on the others" if targets else "mark the metric to optimise",
        )
    return metrics


def _metric(name: str, spec: Any, where: _Where) -> MetricSpec:
    path = ("metrics", name)
    if not _METRIC_NAME.match(name):
        raise where.error(
            f"metric name {where.key(*path)!r} is not a plain name",
            todo="use letters, digits, '_', '.' or '-', as the evaluation prints it",
        )
    if not isinstance(spec, dict):
        raise _type_error(where.key(*path), "a table", spec, where)
    _no_unknown(spec, _METRIC_KEYS, where, path)
    if "direction" not in spec:
        # No default: silently minimising an accuracy would waste a whole run.
        raise where.error(
            f"missing key {where.key(*path, 'direction')!r}",
            todo='say direction = "min" or direction = "max"',
        )
    direction = _choice(spec["direction"], ("min", "max"), where.key(*path, "direction"), where)
    role = _choice(spec.get("role", "target"), ("target", "guard"), where.key(*path, "role"), where)
    margin = 0.0
    if "margin" in spec:
        margin = _number(spec["margin"], where.key(*path, "margin"), where, positive=False)
        if role != "guard":
            raise where.error(
                f"key {where.key(*path, 'margin')!r} applies to guard metrics only",
                todo="remove it, or set role = 'guard'",
            )
    trusted = spec.get("trusted", False)
    if not isinstance(trusted, bool):
        raise _type_error(where.key(*path, "trusted"), "true or false", trusted, where)
    return MetricSpec(
        name=name,
        direction="min" if direction == "min" else "max",
        role="target" if role == "target" else "guard",
        margin=margin,
        bounds=_bounds(spec, path, where),
        trusted=trusted,
    )


def _bounds(
    spec: Mapping[str, Any], path: tuple[str, ...], where: _Where
) -> tuple[float | None, float | None]:
    """`bounds = [lo, hi]`, or `min = lo` and/or `max = hi` when one side is open."""
    if "bounds" in spec and ("min" in spec or "max" in spec):
        raise where.error(
            f"key {where.key(*path, 'bounds')!r} and min/max both given",
            todo="use bounds = [lo, hi], or min/max for one open side",
        )
    lo: float | None
    hi: float | None
    if "bounds" in spec:
        value = spec["bounds"]
        key = where.key(*path, "bounds")
        if not isinstance(value, list) or len(value) != 2:
            raise _type_error(key, "a list [low, high]", value, where)
        lo = _finite(value[0], key, where)
        hi = _finite(value[1], key, where)
    else:
        lo = _finite(spec["min"], where.key(*path, "min"), where) if "min" in spec else None
        hi = _finite(spec["max"], where.key(*path, "max"), where) if "max" in spec else None
    if lo is not None and hi is not None and lo >= hi:
        raise where.error(f"bounds of {where.key(*path)!r} are empty: {lo} >= {hi}")
    return (lo, hi)


def _finite(value: Any, path: str, where: _Where) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or not math.isfinite(value):
        raise _type_error(path, "a finite number", value, where)
    return float(value)


def _proposer(value: Any, path: str, where: _Where) -> ProposerSpec:
    kinds = tuple(PROPOSER_OPTIONS)
    if isinstance(value, str):
        table: Mapping[str, Any] = {"kind": value}
        kind_path = path
    elif isinstance(value, dict):
        table = value
        kind_path = f"{path}.kind"
        if "kind" not in table:
            raise where.error(f"missing key {kind_path!r}", todo=f"one of {', '.join(kinds)}")
    else:
        raise _type_error(path, "a proposer name or a table with 'kind'", value, where)
    kind = _choice(table["kind"], kinds, kind_path, where)
    schema = PROPOSER_OPTIONS[kind]
    options: dict[str, Any] = {}
    for key, option in table.items():
        if key == "kind":
            continue
        if key not in schema:
            known = ", ".join(["kind", *schema])
            raise where.error(
                f"unknown key '{path}.{key}'", todo=f"a {kind} proposer takes: {known}"
            )
        wanted, _ = schema[key]
        if wanted == "table":
            if not isinstance(option, dict):
                raise _type_error(f"{path}.{key}", "a table", option, where)
            options[key] = dict(option)  # its entries are checked by the proposer itself
        elif wanted == "string":
            options[key] = _string(option, f"{path}.{key}", where)
        else:
            options[key] = _number(option, f"{path}.{key}", where, positive=False)
    for key, (_, required) in schema.items():
        if required and key not in options:
            raise where.error(
                f"missing key '{path}.{key}' (a {kind} proposer needs it)",
                todo=f"e.g. proposer = {_PROPOSER_EXAMPLES[kind]}",
            )
    if kind == "command" and "{prompt_file}" not in options["cmd"]:
        raise where.error(
            f"key '{path}.cmd' must contain {{prompt_file}}",
            todo="it is replaced by the path of the prompt the agent CLI reads",
        )
    return ProposerSpec(kind=kind, options=options)


_PROPOSER_EXAMPLES = {
    "command": '{kind = "command", cmd = "claude -p \\"$(cat {prompt_file})\\""}',
    "llm": '{kind = "llm", base_url = "http://localhost:8000", model = "qwen"}',
}
