"""The protected scorer: ground truth, taken from the run's baseline, never the candidate's.

ladder runs it after the candidate's evaluation has exited, from a checkout of the
baseline: it reads the predictions the evaluation left in the candidate's worktree
($LADDER_CANDIDATE_DIR/pred-SEED.json, a list of numbers: nothing the candidate wrote is
executed) and scores them against the validation labels, writing val_loss to
$LADDER_SCORE_FILE, a file the candidate never saw. A candidate that prints a
flattering val_loss changes nothing: the scored one replaces it.

Plain Python, no torch: the scorer runs once per evaluation, and importing torch a second
time made every evaluation of `ladder demo` take about twice as long.
"""

import json
import math
import os
import random
from pathlib import Path

Data = tuple[list[list[float]], list[float]]


def make_data(n: int, rng: random.Random) -> Data:
    """y = sin(3 x0) + 0.5 x1^2 - x2 plus a little noise."""
    xs = [[rng.uniform(-1.0, 1.0) for _ in range(3)] for _ in range(n)]
    ys = [math.sin(3 * x[0]) + 0.5 * x[1] ** 2 - x[2] + rng.gauss(0.0, 0.05) for x in xs]
    return xs, ys


def datasets() -> tuple[Data, Data]:
    """The training and validation sets: fixed, whatever the seed of the run."""
    rng = random.Random(1234)
    return make_data(512, rng), make_data(512, rng)


def main() -> None:
    seed = os.environ.get("LADDER_SEED", "0")
    path = Path(os.environ["LADDER_CANDIDATE_DIR"]) / f"pred-{seed}.json"
    pred = json.loads(path.read_text(encoding="utf-8"))
    _, (_, y_val) = datasets()
    if not isinstance(pred, list) or len(pred) != len(y_val) or not all(
        isinstance(p, (int, float)) and not isinstance(p, bool) for p in pred
    ):
        raise SystemExit(f"predictions must be a list of {len(y_val)} numbers")
    val_loss = math.fsum((float(p) - y) ** 2 for p, y in zip(pred, y_val, strict=True)) / len(y_val)
    with open(os.environ["LADDER_SCORE_FILE"], "w", encoding="utf-8") as fh:
        json.dump({"val_loss": val_loss}, fh)


if __name__ == "__main__":
    main()
