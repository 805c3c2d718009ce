"""enforcement-ladder: lessons compiled up a five-level enforcement ladder.

Import nothing heavy here: `ladder check` runs inside a git hook and its start-up
time is part of every commit (see bench/check_latency.py).
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
