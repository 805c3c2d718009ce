"""`ladder demo`: the embedded default, end to end, in a throwaway repository.

A small, flat torch training program (`ladder/demo_target/train.py`) and its
evaluator are committed; two lessons are promoted to level 5 — the evaluator is
protected, and `train()` must call `validate_batch()` — and the autoresearch loop runs
with the built-in `mutate` proposer. Mutations that edit the evaluator or drop the
validation are refused by git before any evaluation runs; the rest are evaluated on
paired seeds and kept when better. Everything is real: git, pre-commit, libcst, torch.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from ladder.errors import LadderError

_ENV = {
    "GIT_AUTHOR_NAME": "ladder demo",
    "GIT_AUTHOR_EMAIL": "demo@ladder.invalid",
    "GIT_COMMITTER_NAME": "ladder demo",
    "GIT_COMMITTER_EMAIL": "demo@ladder.invalid",
    "SEMGREP_ENABLE_VERSION_CHECK": "0",
    "SEMGREP_SEND_METRICS": "off",
}


class _Story:
    def __init__(self, root: Path, *, quiet: bool = False) -> None:
        self.root = root
        self.quiet = quiet  # the steps run without a word (`--quiet`)
        bindir = str(Path(sys.executable).parent)
        self.env = {**os.environ, **_ENV, "PATH": bindir + os.pathsep + os.environ.get("PATH", "")}

    def sh(
        self, *cmd: str, expect: int | None = 0, show: bool = True
    ) -> subprocess.CompletedProcess[str]:
        show = show and not self.quiet
        if show:
            print(f"\n$ {' '.join(_quote(c) for c in cmd)}", flush=True)
        argv = [sys.executable, "-m", "ladder", *cmd[1:]] if cmd[0] == "ladder" else list(cmd)
        proc = subprocess.run(argv, cwd=self.root, env=self.env, capture_output=True, text=True)
        out = (proc.stdout + proc.stderr).rstrip()
        if show and out:
            print("\n".join("  " + line for line in out.splitlines()))
        if expect is not None and proc.returncode != expect:
            raise LadderError(
                f"demo step `{' '.join(cmd)}` exited {proc.returncode}, expected {expect}",
                where=str(self.root),
                todo="the output above says why",
            )
        return proc

    def write(self, name: str, text: str) -> None:
        (self.root / name).write_text(text, encoding="utf-8")


def _quote(text: str) -> str:
    return repr(text) if any(c in text for c in " \n()") else text


AGENT_TOML = """\
# The demo's agent configuration (see docs/agent.md).
# editable is deliberately loose: the level-5 lessons, not this list, guard the
# evaluator and the input validation, and the demo shows them doing it.
editable = ["*.py"]
eval = "{python} evaluate.py"
# The protected scorer: run from the baseline after each evaluation, it scores the
# predictions the evaluation saved; val_loss below must come from it (trusted).
score = "{python} score.py"
timeout = 120
seeds = {seeds}
{budget}workers = {workers}
strategy = "auto"
seed = {seed}
# A deliberately careless proposer: it likes deleting the input validation (and, with
# "*.py" editable, touches the evaluator), so the two lessons get to refuse it. Like a
# researcher with a hunch, it also likes raising the learning rate and the momentum.
# `ladder demo` prints these biases when it starts.
proposer = {{kind = "mutate", weights = {{{weights}}}}}

[metrics.val_loss]
direction = "min"
role = "target"
trusted = true

[metrics.train_seconds]
direction = "min"
role = "guard"
# Timing is noisy on a shared CPU, and a parent's time is measured once, at another
# moment than its candidates' (reuse_parent): only "twice as slow" counts.
margin = 1.0
# Every decision setting is the default ([verify] in docs/verification.md): the demo's
# keeps are held to the run's false-discovery rate of 0.05 like any other run's.
"""

# The demo's budget is in evaluations, what a GPU user pays for: refused and crashed
# proposals cost none, so a careless proposer still gets its good ideas evaluated (with
# 20 iterations, about half of them refused by the hooks, a demo whose proposer tried the
# small learning-rate step first never came back to the large one).
EVALUATIONS = 64


def _budget_lines(evaluations: int, iterations: int | None) -> str:
    lines = f"evaluations = {evaluations}\n"
    return lines + (f"iterations = {iterations}\n" if iterations else "")


# The proposer's biases: (mutate weight key, weight, what it means in words). Every other
# mutation weighs 1. Printed at the start of the demo, written into its agent.toml.
BIASES = (
    ("delete:validate_batch", 12, "deleting the call to validate_batch()"),
    ("scale:LEARNING_RATE:up", 8, "scaling LEARNING_RATE up"),
    ("shift:MOMENTUM:up", 8, "shifting MOMENTUM up"),
)


def _weights() -> str:
    return ", ".join(f'"{key}" = {weight}' for key, weight, _ in BIASES)


def _biases() -> str:
    said = "; ".join(f"{words} x{weight}" for _, weight, words in BIASES)
    return (f"ladder demo: the proposer is biased, as a researcher with hunches is: {said} "
            "(every other mutation x1; proposer.weights in .ladder/agent.toml)")


def run(
    *,
    directory: str | None = None,
    evaluations: int = EVALUATIONS,
    iterations: int | None = None,
    workers: int = 2,
    seeds: int = 6,
    seed: int = 0,
    quiet: bool = False,
) -> int:
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        raise LadderError(
            "ladder demo trains a small torch model, and torch is not installed",
            todo="pip install torch==2.13.0 (the CPU build), then rerun `ladder demo`",
        )
    root = Path(directory) if directory else Path(tempfile.mkdtemp(prefix="ladder-demo-"))
    root.mkdir(parents=True, exist_ok=True)
    story = _Story(root, quiet=quiet)
    say = _Say(quiet)
    say(_biases())
    if _is_demo(root):
        _carry_over(story, say)
    elif any(root.iterdir()):
        raise LadderError(
            "the demo directory is neither empty nor an earlier demo",
            where=str(root),
            todo="give an empty --dir, or the --dir of an earlier `ladder demo`",
        )
    else:
        _setup(
            story,
            say,
            AGENT_TOML.format(
                python=sys.executable, budget=_budget_lines(evaluations, iterations),
                workers=workers, seeds=seeds, seed=seed, weights=_weights(),
            ),
        )
    say("\n--- the loop: mutate train.py (and, being careless, evaluate.py), commit through the "
        "hooks, evaluate paired seeds, keep what is better (live progress below it on a "
        "terminal; the baseline and its calibration come first)")
    # The options override the configuration, so a second demo in the same directory
    # follows them too.
    budget = ["--evaluations", str(evaluations), "--workers", str(workers), "--seeds", str(seeds),
              "--seed", str(seed), *(["--iterations", str(iterations)] if iterations else []),
              *(["--quiet"] if quiet else [])]
    # The run's own output goes straight to this terminal: its live progress needs one.
    proc = subprocess.run([sys.executable, "-m", "ladder", "agent", "run", *budget], cwd=root,
                          env=story.env)
    story.quiet = False  # what follows the run is its result: shown even with --quiet
    if proc.returncode != 0:
        raise LadderError(
            f"the agent run exited {proc.returncode}",
            where=str(root),
            todo="the output above says why",
        )
    # The run's report: the headline gain with its interval and the progress chart,
    # what a person looks at rather than reads (issue 14).
    story.sh("ladder", "agent", "report")
    print(
        f"\nladder demo: the repository, its lessons and the run's records (.ladder/runs/) "
        f"are in {root}"
    )
    if not directory:
        print("(a temporary directory: pass --dir DIR to choose where)")
    return 0


def _is_demo(root: Path) -> bool:
    return all((root / p).exists() for p in (".git", ".ladder/agent.toml", "train.py", "evaluate.py"))


class _Say:
    """The demo's own words, flushed (a pipe would hold them back for minutes), or
    nothing with --quiet."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet

    def __call__(self, text: str) -> None:
        if not self.quiet:
            print(text, flush=True)


def _carry_over(s: _Story, say: _Say) -> None:
    """A second demo in the same directory starts where the first stopped: commit the
    skills and lessons the earlier runs left, so this run (and its worktrees) has them."""
    say("ladder demo: an earlier demo lives here; this run starts with what it learned")
    s.sh("git", "add", "-A", "--", ".ladder", "LESSONS.md", "AGENTS.md", show=False)
    staged = s.sh("git", "diff", "--cached", "--name-only", show=False).stdout.split()
    if staged:
        s.sh("git", "commit", "-q", "-m", "skills and lessons learned by earlier demo runs", show=False)
        say(f"  committed what earlier runs learned: {', '.join(staged)}")
    s.sh("ladder", "skills", "list")
    s.sh("ladder", "list")


def _setup(s: _Story, say: _Say, agent_toml: str) -> None:
    say("ladder demo: a small torch training program, its evaluator, two lessons at level 5")
    s.sh("git", "init", "-q", "-b", "main", show=False)
    target = Path(__file__).resolve().parents[1] / "demo_target"
    for name in ("train.py", "evaluate.py", "score.py"):
        s.write(name, (target / name).read_text(encoding="utf-8"))
    s.write(".gitignore", "__pycache__/\npred-*.json\n")
    s.sh("git", "add", "-A", show=False)
    s.sh("git", "commit", "-q", "-m", "training program and evaluator", show=False)
    s.sh("ladder", "init")
    s.sh(
        "ladder",
        "add",
        "The evaluator is ground truth",
        "--id",
        "protect-evaluator",
        "--why",
        "An agent that can edit its evaluator can score anything it likes.",
        "--source",
        "ladder demo",
    )
    s.sh(
        "ladder",
        "promote",
        "protect-evaluator",
        "--to",
        "5",
        "--rule",
        "protect",
        'paths=["evaluate.py", "score.py"]',
    )
    s.sh(
        "ladder",
        "add",
        "train() must call validate_batch()",
        "--id",
        "validate-batches",
        "--why",
        "Skipping validation is faster and lets NaN batches silently corrupt training.",
        "--path",
        "train.py",
        "--source",
        "ladder demo",
    )
    s.sh(
        "ladder",
        "promote",
        "validate-batches",
        "--to",
        "5",
        "--rule",
        "require-call",
        "function=train",
        "calls=validate_batch",
    )
    s.write(".ladder/agent.toml", agent_toml)
    s.sh("git", "add", "-A", show=False)
    s.sh(
        "git", "commit", "-q", "-m", "lessons at level 5 and the agent's configuration", show=False
    )
