"""The evaluator: ground truth. It is protected by a level-5 lesson; no mutation may edit it.

Builds the data set, trains `train.train` on it and prints the metrics in
autoresearch's `name: value` convention. LADDER_SEED varies the training run (weight
initialisation, batch order); the data and the validation set stay fixed.
"""

import os
import time

import torch
import train

SEED = int(os.environ.get("LADDER_SEED", "0"))
DEVICE = os.environ.get("LADDER_DEVICE", "cpu")
if DEVICE == "cuda" and not torch.cuda.is_available():
    DEVICE = "cpu"
torch.set_num_threads(1)  # one evaluation per core: slots run side by side


def make_data(n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """y = sin(3 x0) + 0.5 x1^2 - x2 plus a little noise."""
    x = torch.rand(n, 3, generator=generator) * 2 - 1
    y = torch.sin(3 * x[:, :1]) + 0.5 * x[:, 1:2] ** 2 - x[:, 2:3]
    return x, y + 0.05 * torch.randn(n, 1, generator=generator)


def main() -> None:
    start = time.perf_counter()
    data = torch.Generator().manual_seed(1234)
    x_train, y_train = make_data(512, data)
    x_val, y_val = make_data(512, data)
    model = train.train(x_train, y_train, SEED, DEVICE)
    with torch.no_grad():
        val_loss = torch.nn.functional.mse_loss(model(x_val.to(DEVICE)).cpu(), y_val).item()
    print(f"val_loss: {val_loss:.6f}")
    print(f"train_seconds: {time.perf_counter() - start:.3f}")


if __name__ == "__main__":
    main()
