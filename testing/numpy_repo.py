"""A newcomer's first project for the agent loop: a small numpy regression (issue 14).

`train.py` (the agent's to edit) fits a linear model by gradient descent on standardised
features; `evaluate.py` (protected) makes the data, trains, and prints `loss: <value>`.
The raw features are in the thousands, so the program relies on what the agent may break:

- deleting `x = standardize(x)` (in `features`) or `x = features(x)` (in `fit`) makes
  gradient descent diverge: `loss: nan`, a crash;
- a structural literal, `axis=0` -> `axis=1`, breaks a broadcast: a crash;
- `FIT_INTERCEPT = True` is the one change that helps a lot (y has an offset).

LADDER_SEED draws the label noise of the training set: paired seeds share it. A few
percent of noise no seed controls keeps tiny effects from looking real.
"""

from __future__ import annotations

from pathlib import Path

from testing.agent_repo import agent_table
from testing.cli import ladder
from testing.fixtures import commit, git, make_repo, write

TRAIN = '''\
"""Linear regression by gradient descent: the program the agent tunes."""
import numpy as np

LEARNING_RATE = 0.1
EPOCHS = 100
FIT_INTERCEPT = False


def standardize(x):
    return (x - x.mean(axis=0)) / x.std(axis=0)


def features(x):
    x = standardize(x)
    if FIT_INTERCEPT:
        x = np.hstack([x, np.ones((len(x), 1))])
    return x


def fit(x, y):
    x = features(x)
    w = np.zeros(x.shape[1])
    for _ in range(EPOCHS):
        w -= LEARNING_RATE * x.T @ (x @ w - y) / len(y)
    return w


def predict(w, x):
    return features(x) @ w
'''

EVALUATE = '''\
"""The evaluation: ground truth, protected by a level-5 lesson."""
import os

import numpy as np

import train

rng = np.random.default_rng(1234)
x = rng.normal(size=(4000, 4)) * 1000.0 + 500.0
y = x @ np.array([0.001, -0.002, 0.0005, 0.003]) + 2.0 + rng.normal(scale=0.05, size=4000)
noise = np.random.default_rng(int(os.environ["LADDER_SEED"])).normal(scale=0.05, size=2000)
with np.errstate(all="ignore"):  # a diverging candidate says `loss: nan`, not a warning
    w = train.fit(x[:2000], y[:2000] + noise)
    loss = float(np.mean((train.predict(w, x[2000:]) - y[2000:]) ** 2))
# What no seed controls (a GPU's nondeterminism): 5% either way, so a tweak of a few
# tenths of a percent is noise, not a keep.
print(f"loss: {loss * np.exp(np.random.default_rng().normal(scale=0.05))}")
'''

STANDARDIZE = "x = standardize(x)"  # the deletion that crashes


def make_numpy_repo(path: Path, *, iterations: int, seeds: int = 2) -> Path:
    """The project as a newcomer sets it up: the two files, `ladder init`, the agent's
    configuration (train.py editable, the mutate proposer, learning on), all committed."""
    root = make_repo(path, {"train.py": TRAIN, "evaluate.py": EVALUATE})
    proc = ladder(root, "init")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    write(root, ".ladder/agent.toml", agent_table(editable=("train.py",), iterations=iterations,
                                                   seeds=seeds, timeout=60))
    done = commit(root, "ladder init and the agent's configuration")
    assert done.returncode == 0, done.stdout + done.stderr
    return root


def commit_learned(root: Path, message: str) -> None:
    """What the run's summary asks a person to do: review and commit what it learned."""
    if git(root, "status", "--porcelain").stdout.strip():
        done = commit(root, message)
        assert done.returncode == 0, done.stdout + done.stderr
