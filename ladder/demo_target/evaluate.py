"""The evaluation harness. It is protected by a level-5 lesson; no mutation may edit it.

Builds the data set, trains `train.train` on it, saves the model's predictions on the
validation inputs (pred-SEED.json) for the protected scorer (score.py), and prints the
metrics in autoresearch's `name: value` convention -- reported: the candidate's code
runs in this process and could change them, which is why val_loss is scored.
LADDER_SEED varies the training run (weight initialisation, batch order); the data and
the validation set stay fixed.
"""

import json
import os
import time

import torch
import train
from score import datasets

SEED = int(os.environ.get("LADDER_SEED", "0"))
DEVICE = os.environ.get("LADDER_DEVICE", "cpu")
if DEVICE == "cuda" and not torch.cuda.is_available():
    DEVICE = "cpu"
torch.set_num_threads(1)  # one evaluation per core: slots run side by side


def main() -> None:
    start = time.perf_counter()
    (x_train, y_train), (x_val, y_val) = datasets()
    model = train.train(torch.tensor(x_train), torch.tensor(y_train).unsqueeze(1), SEED, DEVICE)
    with torch.no_grad():
        pred = model(torch.tensor(x_val).to(DEVICE)).cpu().squeeze(1)
    with open(f"pred-{SEED}.json", "w", encoding="utf-8") as fh:  # seeds side by side: one each
        json.dump(pred.tolist(), fh)
    loss = torch.nn.functional.mse_loss(pred, torch.tensor(y_val)).item()
    print(f"val_loss: {loss:.6f}")
    print(f"train_seconds: {time.perf_counter() - start:.3f}")


if __name__ == "__main__":
    main()
