"""ladder on a repository of the size people have: 1,000+ Python files, each figure against
its floor, measured in the same run (the machines are noisy; ratios are what holds).

The repository is generated (seeded): nested packages and tests, files from 40 to ~1,500
lines, odd file names (spaces, non-ASCII), a `.pre-commit-config.yaml` with stages
already in use, and five lessons of the kinds people write (forbid-call `eval` and
`os.system`, forbid-import `pickle`, require-call, bound), none of which fires on the
tree. Some files mention what the rules look for (`evaluate(`, `describe`, `LIMIT`)
without breaking them, as real code does.

  (a) the hook on one staged 500-line file, against a bare libcst parse of that file in
      a fresh process                                       -> target <= 1.5x
  (b) `ladder check --ci` on the whole tree, cold (no cache), against one pass of
      Python's own `ast.parse` over the same files in a fresh process -> target <= 2x
  (c) the same, warm (nothing changed since (b))             -> target <= 0.5 s
  (d) the level-5 gate: `ladder promote` of a lesson from 4 to 5 (per-commit cost
      measured on staged-size files, then the whole tree without a wall-clock limit),
      wall time, for information; it must pass.
  and, for information, `ladder check --ci` with a semgrep rule added (one semgrep
  process over the tree) against a bare semgrep scan of the tree, cold and warm.

Usage: python bench/real_repo.py [--files 1000] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ladder.lesson import Lesson, Rule
from ladder.project import Project
from ladder.store import save_lesson
from testing.code import python_file
from testing.fixtures import git, make_repo, set_git_env, write

SEMGREP_FLAGS = ["--metrics=off", "--disable-version-check", "--json", "--quiet"]
PRECOMMIT = """\
default_stages: [pre-commit]
repos:
  - repo: local
    hooks:
      - id: no-large
        name: no large files
        entry: python -c "import sys; sys.exit(0)"
        language: system
        stages: [pre-commit]
"""


def tree(count: int, seed: int = 0) -> dict[str, str]:
    """`count` Python files in nested packages, sizes spread like a real repository's."""
    rng = random.Random(seed)
    files: dict[str, str] = {"README.md": "# generated\n", ".pre-commit-config.yaml": PRECOMMIT,
                             "pyproject.toml": "[project]\nname = 'generated'\n"}
    for n in range(count):
        top = rng.choice(["src/core", "src/models", "src/io", "tests", "scripts", "src/plugins"])
        sub = f"sub_{rng.randrange(12)}"
        name = f"mod_{n}.py" if rng.random() > 0.01 else f"odd name {n} é.py"
        blocks = max(2, min(80, int(rng.lognormvariate(2.3, 0.7))))  # median ~10 (~250 lines)
        files[f"{top}/{sub}/{name}"] = python_file(n, blocks, rng)
    return files


def lessons() -> list[Lesson]:
    rules = [Rule("forbid-call", {"name": "eval"}), Rule("forbid-call", {"name": "os.system"}),
             Rule("forbid-import", {"module": "pickle"}),
             Rule("require-call", {"function": "describe", "calls": "dumps"}),
             Rule("bound", {"name": "LIMIT", "op": "<=", "value": 100})]
    return [Lesson(id=f"rule-{n}", title=f"rule {n}", why="bench", level=4, paths=("**/*.py",),
                   rule=r) for n, r in enumerate(rules)]


def build(root: Path, files: dict[str, str], ladder_bin: str, with_semgrep: bool = False) -> Path:
    make_repo(root, files)
    timed([ladder_bin, "init"], root)  # the hooks a level-5 lesson needs, as a user would
    project = Project(root)
    project.lessons_dir.mkdir(parents=True, exist_ok=True)
    extra = [Lesson(id="sg-0", title="no yaml.load", why="bench", level=4, paths=("**/*.py",),
                    rule=Rule("pattern", {"pattern": "yaml.load(...)"}))] if with_semgrep else []
    for lesson in lessons() + extra:
        save_lesson(project, lesson)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "lessons")
    return root


def timed(cmd: Sequence[str], cwd: Path, expect: int = 0) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != expect:
        raise SystemExit(f"bench: {' '.join(cmd[:4])}... exited {proc.returncode}:\n"
                         f"{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return elapsed


def clear_cache(root: Path) -> None:
    shutil.rmtree(root / ".git" / "ladder", ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3, help="timed runs per figure (median)")
    opts = parser.parse_args(argv)
    set_git_env()
    bindir = Path(sys.executable).parent
    ladder_bin = shutil.which("ladder", path=str(bindir)) or "ladder"
    semgrep_bin = shutil.which("semgrep", path=str(bindir)) or "semgrep"
    os.environ["PATH"] = f"{bindir}{os.pathsep}{os.environ['PATH']}"
    os.environ["SEMGREP_ENABLE_VERSION_CHECK"] = "0"
    files = tree(opts.files)
    py = sorted(f for f in files if f.endswith(".py"))
    lines = sum(files[f].count("\n") for f in py)
    one = "src/core/staged_500.py"
    files[one] = python_file(99999, 20, random.Random(1))
    samples: dict[str, list[float]] = {}

    def sample(key: str, value: float) -> None:
        samples.setdefault(key, []).append(value)

    with tempfile.TemporaryDirectory(prefix="ladder-bench-") as tmp:
        root = build(Path(tmp) / "repo", files, ladder_bin)
        listing = Path(tmp) / "py-files.txt"
        listing.write_text("\n".join([*py, one]) + "\n", encoding="utf-8")
        ast_pass = ("import ast, sys\nfor f in open(sys.argv[1], encoding='utf-8').read().split('\\n'):\n"
                    "    if f: ast.parse(open(f, 'rb').read())\n")
        bare = ("import sys, libcst\nlibcst.parse_module(open(sys.argv[1]).read())\n")
        write(root, one, files[one] + "\nX = 1\n")
        git(root, "add", one)
        for _ in range(opts.runs):  # interleaved, so machine noise hits every figure alike
            sample("ast.parse, every file", timed([sys.executable, "-c", ast_pass, str(listing)], root))
            clear_cache(root)
            sample("ladder check --ci, cold", timed([ladder_bin, "check", "--ci"], root))
            sample("ladder check --ci, warm", timed([ladder_bin, "check", "--ci"], root))
            sample("bare libcst parse, 500 lines", timed([sys.executable, "-c", bare, one], root))
            sample("ladder check --hook, 500 lines", timed([ladder_bin, "check", "--hook", one], root))
        start = time.perf_counter()
        proc = subprocess.run([ladder_bin, "promote", "rule-3", "--to", "5"], cwd=root,
                              capture_output=True, text=True)
        gate = time.perf_counter() - start
        gate_out = (proc.stdout + proc.stderr).strip()
        sg_root = build(Path(tmp) / "sg", dict(files), ladder_bin, with_semgrep=True)
        config = Path(tmp) / "sg.yaml"
        config.write_text("rules:\n  - id: sg-0\n    pattern: yaml.load(...)\n    message: m\n"
                          "    languages: [python]\n    severity: ERROR\n", encoding="utf-8")
        sample("bare semgrep scan, tree", timed([semgrep_bin, "scan", *SEMGREP_FLAGS, "--config",
                                                 str(config), "."], sg_root))
        clear_cache(sg_root)
        sample("ladder check --ci + semgrep, cold", timed([ladder_bin, "check", "--ci"], sg_root))
        sample("ladder check --ci + semgrep, warm", timed([ladder_bin, "check", "--ci"], sg_root))
    med = {k: statistics.median(v) for k, v in samples.items()}
    print(f"real_repo: {len(py) + 1} Python files, {lines} lines, 5 libcst lessons; median of "
          f"{opts.runs} interleaved runs; {os.cpu_count()} cores")
    for key, value in med.items():
        print(f"  {key:<36} {value:8.3f} s")
    print(f"  level-5 gate (ladder promote rule-3 --to 5): {gate:.2f} s, exit {proc.returncode}")
    for line in gate_out.splitlines()[-6:]:
        print(f"    | {line}")
    figures = [
        ("hook, 500-line file / bare libcst parse", med["ladder check --hook, 500 lines"]
         / med["bare libcst parse, 500 lines"], 1.5, "x"),
        ("check --ci cold / ast.parse pass     ", med["ladder check --ci, cold"]
         / med["ast.parse, every file"], 2.0, "x"),
        ("check --ci warm                      ", med["ladder check --ci, warm"], 0.5, " s"),
    ]
    ok = proc.returncode == 0
    for label, value, target, unit in figures:
        good = value <= target
        ok &= good
        print(f"  {label} {value:6.2f}{unit}  (target <= {target}{unit}: {'ok' if good else 'OVER'})")
    print(f"  for information: check --ci + semgrep / bare semgrep "
          f"{med['ladder check --ci + semgrep, cold'] / med['bare semgrep scan, tree']:.2f}x cold, "
          f"{med['ladder check --ci + semgrep, warm']:.2f} s warm")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
