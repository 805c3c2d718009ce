"""Latency of `ladder guard claude`, the code on every edit a coding agent makes.

A repository with 20 level-5 libcst lessons (forbid-call, forbid-import, require-call,
bound) on `**/*.py` and one 500-line Python file. In one run, interleaved, this prints
the median wall time of:

  (a) a bare Python start-up (`python -c pass`)
  (b) `ladder guard claude` on a Claude Code `Edit` event for the 500-line file
      (the full path: the edit applied in memory, all 20 rules over the result)
  (c) `ladder guard claude` on an `Edit` of README.md (the index's fast path:
      no rule can see the file)
  (d) a bare Python process that imports libcst and parses the edited file once
      (the floor for (b): the rules' own work, without ladder)

and the ratios (b)/(a), (c)/(a) and (b)/(d). PYTHONDONTWRITEBYTECODE is cleared for the
timed processes, so ladder's modules run from bytecode as in any pip installation
(otherwise every call recompiles them, ~30 ms that no user pays). Claude Code's default hook timeout is
60 s; a guard call should cost a small fraction of the model's own turn (seconds).

Usage: python bench/guard_latency.py [--runs N]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _check_latency() -> ModuleType:
    """bench/check_latency.py: its 500-line file and its 20 libcst lessons, reused."""
    spec = importlib.util.spec_from_file_location("check_latency", REPO / "bench" / "check_latency.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def edit_event(root: Path, path: str, old: str, new: str) -> str:
    """A PreToolUse event as Claude Code sends it (docs: hooks reference, PreToolUse input)."""
    return json.dumps({
        "session_id": "bench", "transcript_path": str(root / "transcript.jsonl"), "cwd": str(root),
        "permission_mode": "default", "hook_event_name": "PreToolUse", "tool_name": "Edit",
        "tool_input": {"file_path": str(root / path), "old_string": old, "new_string": new},
    })


def timed(cmd: Sequence[str], cwd: Path, stdin: str = "", expect: int = 0) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, input=stdin, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != expect:
        raise SystemExit(f"bench: {' '.join(cmd[:3])} exited {proc.returncode}:\n{proc.stdout}{proc.stderr}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs per command (median reported)")
    opts = parser.parse_args()
    cl = _check_latency()
    cl.set_git_env()
    bindir = Path(sys.executable).parent
    ladder_bin = shutil.which("ladder", path=str(bindir)) or "ladder"
    os.environ["PATH"] = f"{bindir}{os.pathsep}{os.environ['PATH']}"
    os.environ.pop("CLAUDE_PROJECT_DIR", None)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    text = cl.python_file(0)
    lines = text.count("\n")
    with tempfile.TemporaryDirectory(prefix="ladder-guard-bench-") as tmp:
        root = cl.build(Path(tmp) / "repo", cl.libcst_lessons(), {"pkg/model.py": text})
        old = "def helper_0_23(values: list[float]) -> float:\n    total = 0.0\n"
        new = "def helper_0_23(values: list[float]) -> float:\n    total = 1.0\n"
        assert text.count(old) == 1  # Edit replaces a unique string (else the tool refuses)
        edited = Path(tmp) / "edited.py"
        edited.write_text(text.replace(old, new, 1), encoding="utf-8")
        parse = "import sys, libcst\nlibcst.parse_module(open(sys.argv[1]).read())\n"
        guard = [ladder_bin, "guard", "claude"]
        commands: dict[str, tuple[list[str], str]] = {
            "bare python start-up": ([sys.executable, "-c", "pass"], ""),
            "guard, Edit of the 500-line file": (guard, edit_event(root, "pkg/model.py", old, new)),
            "guard, Edit of README.md": (guard, edit_event(root, "README.md", "bench", "Bench")),
            "bare libcst import + parse": ([sys.executable, "-c", parse, str(edited)], ""),
        }
        for cmd, stdin in commands.values():  # warm caches (lesson cache, guard index, page cache)
            timed(cmd, root, stdin)
        samples: dict[str, list[float]] = {k: [] for k in commands}
        for _ in range(opts.runs):  # interleaved, so machine noise hits every command alike
            for key, (cmd, stdin) in commands.items():
                samples[key].append(timed(cmd, root, stdin))
    med = {k: statistics.median(v) for k, v in samples.items()}
    print(f"guard_latency: 20 level-5 libcst lessons, a {lines}-line file; median of {opts.runs} interleaved runs")
    for key, value in med.items():
        print(f"  {key:<34} {value * 1000:8.1f} ms")
    start = med["bare python start-up"]
    full = med["guard, Edit of the 500-line file"]
    print(f"  ratio full guard / bare start-up   {full / start:6.2f}x  (absolute median {full * 1000:.1f} ms)")
    print(f"  ratio fast path  / bare start-up   {med['guard, Edit of README.md'] / start:6.2f}x")
    print(f"  ratio full guard / libcst floor    {full / med['bare libcst import + parse']:6.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
