"""Ordinary generated Python for the benchmarks: modules of small models and helpers that
no lesson flags, the same text wherever a benchmark needs "a file people write"."""

from __future__ import annotations

import random
import textwrap

DESCRIBE = '\n    def describe(self) -> str:\n        return json.dumps({"width": self.width})\n'
EVALUATE = ("\n    def evaluate(self, xs: list[float]) -> float:\n"
            "        return sum(self.forward(xs))\n")


def block(seed: int, i: int, extra: str = "") -> str:
    """~20 lines: a model class (with `extra` methods appended) and a helper function."""
    return textwrap.dedent(f'''

        class Model{seed}_{i}:
            """A small model."""

            def __init__(self, width: int = {i + 1}) -> None:
                self.width = width
                self.weights = [math.sin(k * {i + 1}) for k in range(width)]

            def forward(self, xs: list[float]) -> list[float]:
                out = []
                for x, w in zip(xs, self.weights):
                    out.append(max(0.0, x * w + {i}.0))
                return out
        ''') + extra + textwrap.dedent(f'''

        def helper_{seed}_{i}(values: list[float]) -> float:
            total = 0.0
            for v in values:
                if v > 0:
                    total += v ** 0.5
            return total / max(len(values), 1)
        ''')


def python_file(seed: int, blocks: int = 24, rng: random.Random | None = None) -> str:
    """A module of `blocks` blocks (24: ~500 lines). Without `rng` every class has a
    `describe`; with it, now and then a class mentions what rules look for (`describe`,
    `evaluate(`, a `LIMIT`) without breaking them, as real code does."""
    head = f'"""Module {seed}."""\n\nimport json\nimport math\n'
    if rng is not None and rng.random() < 0.05:
        head += "\nLIMIT = 64\n"
    parts = [head]
    for i in range(blocks):
        extra = DESCRIBE
        if rng is not None:
            roll = rng.random()
            extra = DESCRIBE if roll < 0.04 else EVALUATE if roll < 0.08 else ""
        parts.append(block(seed, i, extra))
    return "".join(parts)
