"""An autoresearch-shaped repository for the security suite, and the attacker's tools.

The shape of karpathy/autoresearch: a fixed `prepare.py` holding the evaluator, an
editable `train.py` that trains and prints `val_bpb:`, and (the trust boundary) a
protected `score.py` that reads what `train.py` produced -- `pred.json` -- and scores it
with the *baseline's* evaluator. Both fixed files are level-5 protected lessons; the
hooks are the real ones `ladder init` installs.

The attacker is a `command` proposer: `attack.py` (written next to the repository, not
in it) writes a `train.py` and runs shell steps in its checkout, as a coding agent
would. `snapshot` is what must be byte-identical after the run: git's config, hooks and
refs outside ladder's namespace, and every file of the user's working tree.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ladder.commands.agent import protect_non_editable
from ladder.project import Project
from testing.cli import ladder
from testing.fixtures import commit, git, make_repo, write

PREPARE = """\
import os
import random

TRUE_W = 1.0


def evaluate(w: float) -> float:
    noise = random.Random(int(os.environ.get("LADDER_SEED", "0"))).uniform(-1e-3, 1e-3)
    return (w - TRUE_W) ** 2 + 1.0 + noise
"""

TRAIN = """\
import json

import prepare

W = {w}

json.dump({{"w": W}}, open("pred.json", "w"))
print(f"val_bpb: {{prepare.evaluate(W):.6f}}")
"""

SCORE = """\
import json
import os
from pathlib import Path

import prepare  # the baseline's own evaluator: this file runs from the baseline's checkout

pred = json.loads((Path(os.environ["LADDER_CANDIDATE_DIR"]) / "pred.json").read_text())
w = float(pred["w"])
Path(os.environ["LADDER_SCORE_FILE"]).write_text(
    json.dumps({"val_bpb": prepare.evaluate(w), "pred_norm": abs(w)}))
"""

ATTACKER = """\
import subprocess
import sys
from pathlib import Path

TRAIN = {train!r}
STEPS = {steps!r}

if TRAIN:
    Path("train.py").write_text(TRAIN)
for step in STEPS:
    done = subprocess.run(step, shell=True, capture_output=True, text=True)
    sys.stderr.write(f"$ {{step}}\\n{{done.stdout}}{{done.stderr}}")
print({says!r})
"""

PROTECT = "protect-evaluator"
OWN_REFS = ("refs/ladder/", "refs/heads/ladder/", "refs/notes/ladder")


@dataclass(frozen=True)
class Attack:
    train: str  # the new train.py ("" : leave it)
    steps: tuple[str, ...] = ()  # shell steps run in the proposer's checkout
    says: str = "an improvement, honestly"  # its last line: the proposal's description


def train_py(w: float = 3.0, extra: str = "") -> str:
    return TRAIN.format(w=w) + extra


def make_attack_repo(
    path: Path,
    attack: Attack,
    *,
    scored: bool = True,
    sandbox: str = "none",
    iterations: int = 2,
    learn: bool = False,
    extra: str = "",
    metrics: str = "",
    hidden: Sequence[Path] = (),
    editable: Sequence[str] = ("train.py",),
) -> Path:
    """The repository at `path`, its run configured with `attack` as the proposer."""
    root = path
    shutil.copytree(_initialised(), root, symlinks=True)
    script = path.parent / f"{path.name}-attack.py"
    script.write_text(ATTACKER.format(train=attack.train, steps=list(attack.steps), says=attack.says), encoding="utf-8")
    cmd = f"{sys.executable} {script} {{prompt_file}}"
    py = sys.executable
    config = (
        f"editable = {json.dumps(list(editable))}\n"
        f"eval = {json.dumps(py + ' train.py')}\n"
        + (f"score = {json.dumps(py + ' score.py')}\n" if scored else "")
        + "timeout = 60\nseeds = 2\n"
        f"iterations = {iterations}\n"
        'strategy = "hill"\n'
        f"learn = {json.dumps(learn)}\n"
        f"proposer = {{kind = \"command\", cmd = {json.dumps(cmd)}}}\n"
        f"{extra}"
        f'\n[sandbox]\nmode = "{sandbox}"\n'
        + (f"hidden = {json.dumps([str(h) for h in hidden])}\n" if hidden else "")
        + '\n[metrics.val_bpb]\ndirection = "min"\nrole = "target"\n'
        + ("trusted = true\n" if scored else "")
        + metrics
    )
    write(root, ".ladder/agent.toml", config)
    done = commit(root, "lessons, hooks and the agent's configuration")
    assert done.returncode == 0, done.stdout + done.stderr
    # What `ladder agent run` commits at its start (the lesson protecting every
    # non-editable file), done here so that a snapshot taken now is what the run must
    # leave behind.
    protect_non_editable(Project(root), tuple(editable))
    assert not git(root, "status", "--porcelain").stdout.strip()
    return root


_TEMPLATE: list[Path] = []  # this process's initialised repository, made once


def _initialised() -> Path:
    """The files, `ladder init` and the protect lesson at level 5, committed: the same
    for every attack, so made once per process and copied (each setup ran three ladder
    commands, about a fifth of the attack tests' CI time)."""
    if not _TEMPLATE:
        where = Path(tempfile.mkdtemp(prefix="ladder-attack-template-"))
        atexit.register(shutil.rmtree, where, ignore_errors=True)
        root = make_repo(where / "repo", {"prepare.py": PREPARE, "train.py": train_py(),
                                          "score.py": SCORE})
        _ok(ladder(root, "init"))
        _ok(ladder(root, "add", "The evaluator is ground truth", "--id", PROTECT,
                   "--why", "An agent that edits its evaluator can score anything it likes."))
        _ok(ladder(root, "promote", PROTECT, "--to", "5", "--rule", "protect",
                   "paths=prepare.py,score.py"))
        _TEMPLATE.append(root)
    return _TEMPLATE[0]


def _ok(proc: object) -> None:
    code = getattr(proc, "returncode", 1)
    assert code == 0, f"exit {code}\n{getattr(proc, 'stdout', '')}\n{getattr(proc, 'stderr', '')}"


def snapshot(root: Path) -> dict[str, str]:
    """What ladder must leave byte-identical: git's config and hooks, refs outside
    ladder's namespace, and every file of the working tree but the run's records."""
    common = Path(git(root, "rev-parse", "--git-common-dir").stdout.strip())
    common = common if common.is_absolute() else root / common
    out: dict[str, str] = {}
    for path in [common / "config", *sorted((common / "hooks").iterdir())]:
        out[f"git:{path.name}"] = _digest(path)
    refs = git(root, "for-each-ref", "--format=%(refname) %(objectname)").stdout.splitlines()
    out.update({f"ref:{line}": "" for line in refs if not line.startswith(OWN_REFS)})
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith((".git/", ".ladder/runs", ".ladder/cache")) or rel == ".git" or path.is_dir():
            continue
        out[f"file:{rel}"] = _digest(path) + f" {path.stat().st_mode:o}"
    return out


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.is_file() else "absent"


def statuses(decisions: Sequence[dict[str, object]]) -> list[str]:
    return [str(d["verdict"]["status"]) for d in decisions]  # type: ignore[index]
