"""The evaluation harness. It is protected by a level-5 lesson; no mutation may edit it.

Builds the data set, trains `train.train` on it, saves the model's predictions on the
validation inputs (pred-SEED.pt) for the protected scorer (score.py), and prints the
metrics in autoresearch's `name: value` convention -- reported: the candidate's code
runs in this process and could change them, which is why val_loss is scored.
LADDER_SEED varies the training run (weight initialisation, batch order); the data and
the validation set stay fixed.
"""

import os
import time

import torch
import train
from score import make_data

SEED = int(os.environ.get("LADDER_SEED", "0"))
DEVICE = os.environ.get("LADDER_DEVICE", "cpu")
if DEVICE == "cuda" and not torch.cuda.is_available():
    DEVICE = "cpu"
torch.set_num_threads(1)  # one evaluation per core: slots run side by side


def main() -> None:
    start = time.perf_counter()
    data = torch.Generator().manual_seed(1234)
    x_train, y_train = make_data(512, data)
    x_val, y_val = make_data(512, data)
    model = train.train(x_train, y_train, SEED, DEVICE)
    with torch.no_grad():
        pred = model(x_val.to(DEVICE)).cpu()
    torch.save(pred, f"pred-{SEED}.pt")  # seeds side by side in one worktree: one file each
    print(f"val_loss: {torch.nn.functional.mse_loss(pred, y_val).item():.6f}")
    print(f"train_seconds: {time.perf_counter() - start:.3f}")


if __name__ == "__main__":
    main()
