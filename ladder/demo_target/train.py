"""Train a small network on a synthetic regression task: the demo's editable program.

The agent edits this file; `evaluate.py` (protected) trains it and reports the
validation loss. Hyperparameters are the commented upper-case constants below.
"""

import torch

LEARNING_RATE = 0.005  # SGD step size
MOMENTUM = 0.0  # SGD momentum
HIDDEN = 8  # width of the hidden layer
STEPS = 100  # optimisation steps
BATCH = 32  # examples per step
WEIGHT_DECAY = 0.001  # L2 penalty
ACTIVATION = "tanh"  # ladder: choices tanh relu gelu silu


def validate_batch(x: torch.Tensor, y: torch.Tensor) -> None:
    """Refuse inputs that would silently corrupt training (NaN, inf, mismatched sizes)."""
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"batch sizes differ: {x.shape[0]} inputs, {y.shape[0]} targets")
    if not bool(torch.isfinite(x).all()) or not bool(torch.isfinite(y).all()):
        raise ValueError("non-finite values in the batch")


def make_model(inputs: int) -> torch.nn.Module:
    act = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU, "gelu": torch.nn.GELU, "silu": torch.nn.SiLU}
    return torch.nn.Sequential(
        torch.nn.Linear(inputs, HIDDEN),
        act[ACTIVATION](),
        torch.nn.Linear(HIDDEN, 1),
    )


def train(x: torch.Tensor, y: torch.Tensor, seed: int, device: str) -> torch.nn.Module:
    """Fit a model to (x, y) and return it."""
    torch.manual_seed(seed)
    model = make_model(x.shape[1]).to(device)
    x, y = x.to(device), y.to(device)
    opt = torch.optim.SGD(
        model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY
    )
    for _ in range(STEPS):
        idx = torch.randint(0, x.shape[0], (BATCH,), device=device)
        xb, yb = x[idx], y[idx]
        validate_batch(xb, yb)
        loss = torch.nn.functional.mse_loss(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model
