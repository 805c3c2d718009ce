"""The protected scorer: ground truth, taken from the run's baseline, never the candidate's.

ladder runs it after the candidate's evaluation has exited, from a checkout of the
baseline: it reads the predictions the evaluation left in the candidate's worktree
($LADDER_CANDIDATE_DIR/pred-SEED.pt, tensors only: nothing the candidate wrote is
executed) and scores them against the validation labels, writing val_loss to
$LADDER_SCORE_FILE, a file the candidate never saw. A candidate that prints a
flattering val_loss changes nothing: the scored one replaces it.
"""

import json
import os
from pathlib import Path

import torch


def make_data(n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """y = sin(3 x0) + 0.5 x1^2 - x2 plus a little noise."""
    x = torch.rand(n, 3, generator=generator) * 2 - 1
    y = torch.sin(3 * x[:, :1]) + 0.5 * x[:, 1:2] ** 2 - x[:, 2:3]
    return x, y + 0.05 * torch.randn(n, 1, generator=generator)


def validation() -> tuple[torch.Tensor, torch.Tensor]:
    data = torch.Generator().manual_seed(1234)
    make_data(512, data)  # the training set comes first
    return make_data(512, data)


def main() -> None:
    seed = os.environ.get("LADDER_SEED", "0")
    pred = torch.load(Path(os.environ["LADDER_CANDIDATE_DIR"]) / f"pred-{seed}.pt", weights_only=True)
    _, y_val = validation()
    if not isinstance(pred, torch.Tensor) or pred.shape != y_val.shape:
        raise SystemExit(f"predictions must be a tensor of shape {tuple(y_val.shape)}")
    val_loss = torch.nn.functional.mse_loss(pred.float(), y_val).item()
    with open(os.environ["LADDER_SCORE_FILE"], "w", encoding="utf-8") as fh:
        json.dump({"val_loss": val_loss}, fh)


if __name__ == "__main__":
    main()
