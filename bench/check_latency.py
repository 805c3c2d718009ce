"""Latency of `ladder check --hook`, the code on every commit's path.

A commit of 10 Python files of ~500 lines, checked by 20 libcst rules and 5 semgrep
rules, all at level 5. In one run, interleaved, this prints the median wall time of:

  (a) a bare Python process that parses the same files once with libcst, against
      ladder with only the 20 libcst rules            -> target ratio <= 1.5
  (b) one bare semgrep invocation (the same 5 rules, the same files, the same
      offline flags ladder uses), against ladder with only the 5 semgrep rules
                                                        -> target ratio <= 1.1
  (c) a bare Python start-up, against ladder (all 25 rules) on a commit that
      touches no Python file                            -> target ratio <= 1.2
  and, for information, ladder with all 25 rules on the 10 files.

Usage: python bench/check_latency.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
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

SEMGREP_FLAGS = ["--experimental", "--metrics=off", "--disable-version-check", "--json", "--quiet"]
SEMGREP_PATTERNS = ["eval(...)", "exec(...)", "os.system(...)", "pickle.loads(...)", "yaml.load(...)"]


def libcst_lessons() -> list[Lesson]:
    rules = []
    for i in range(5):
        rules.append(Rule("forbid-call", {"name": f"forbidden_call_{i}"}))
        rules.append(Rule("forbid-import", {"module": f"forbidden_module_{i}"}))
        rules.append(Rule("require-call", {"function": f"handler_{i}", "calls": f"validate_{i}"}))
        rules.append(Rule("bound", {"name": f"LIMIT_{i}", "op": "<=", "value": 100}))
    return [Lesson(id=f"cst-{n:02d}", title=f"libcst rule {n}", why="bench", level=5,
                   paths=("**/*.py",), rule=r) for n, r in enumerate(rules)]


def semgrep_lessons() -> list[Lesson]:
    return [Lesson(id=f"sg-{n}", title=f"semgrep rule {n}", why="bench", level=5, paths=("**/*.py",),
                   rule=Rule("pattern", {"pattern": p})) for n, p in enumerate(SEMGREP_PATTERNS)]


def semgrep_config(path: Path) -> Path:
    lines = ["rules:"]
    for n, p in enumerate(SEMGREP_PATTERNS):
        lines += [f"  - id: sg-{n}", f"    pattern: {p}", "    message: bench",
                  "    languages: [python]", "    severity: ERROR"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def build(root: Path, lessons: Sequence[Lesson], files: dict[str, str]) -> Path:
    make_repo(root, {"README.md": "bench\n"})
    project = Project(root)
    project.lessons_dir.mkdir(parents=True)
    for lesson in lessons:
        save_lesson(project, lesson)
    for name, text in files.items():
        write(root, name, text)
    write(root, "README.md", "bench, changed\n")
    git(root, "add", "-A")
    return root


def timed(cmd: Sequence[str], cwd: Path, expect: int = 0) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != expect:
        raise SystemExit(f"bench: {' '.join(cmd[:4])}... exited {proc.returncode}:\n{proc.stdout}{proc.stderr}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs per command (median reported)")
    opts = parser.parse_args()
    set_git_env()
    bindir = Path(sys.executable).parent
    ladder_bin = shutil.which("ladder", path=str(bindir)) or "ladder"
    semgrep_bin = shutil.which("semgrep", path=str(bindir)) or "semgrep"
    os.environ["PATH"] = f"{bindir}{os.pathsep}{os.environ['PATH']}"
    files = {f"pkg/mod_{i}.py": python_file(i) for i in range(10)}
    names = list(files)
    lines = sum(t.count("\n") for t in files.values())
    with tempfile.TemporaryDirectory(prefix="ladder-bench-") as tmp:
        base = Path(tmp)
        cst = build(base / "cst", libcst_lessons(), files)
        sg = build(base / "sg", semgrep_lessons(), files)
        both = build(base / "all", libcst_lessons() + semgrep_lessons(), files)
        config = semgrep_config(base / "rules.yaml")
        parse = "import sys, libcst\nfor f in sys.argv[1:]:\n    libcst.parse_module(open(f).read())\n"
        commands = {
            "bare libcst parse": ([sys.executable, "-c", parse, *names], cst),
            "ladder, 20 libcst rules": ([ladder_bin, "check", "--hook", *names], cst),
            "bare semgrep, 5 rules": ([semgrep_bin, "scan", *SEMGREP_FLAGS, "--config", str(config), *names], sg),
            "ladder, 5 semgrep rules": ([ladder_bin, "check", "--hook", *names], sg),
            "bare python start-up": ([sys.executable, "-c", "pass"], both),
            "ladder, no python file": ([ladder_bin, "check", "--hook", "README.md"], both),
            "ladder, all 25 rules": ([ladder_bin, "check", "--hook", *names], both),
        }
        for cmd, cwd in commands.values():  # warm caches (lesson index, OS page cache)
            timed(cmd, cwd)
        samples: dict[str, list[float]] = {k: [] for k in commands}
        for _ in range(opts.runs):  # interleaved, so machine noise hits every command alike
            for key, (cmd, cwd) in commands.items():
                samples[key].append(timed(cmd, cwd))
    med = {k: statistics.median(v) for k, v in samples.items()}
    print(f"check_latency: 10 files, {lines} lines; median of {opts.runs} interleaved runs")
    for key, value in med.items():
        print(f"  {key:<26} {value * 1000:8.1f} ms")
    ratios = [
        ("libcst part  / bare libcst parse", med["ladder, 20 libcst rules"] / med["bare libcst parse"], 1.5),
        ("semgrep part / bare semgrep     ", med["ladder, 5 semgrep rules"] / med["bare semgrep, 5 rules"], 1.1),
        ("no-python    / bare start-up    ", med["ladder, no python file"] / med["bare python start-up"], 1.2),
    ]
    ok = True
    for label, ratio, target in ratios:
        verdict = "ok" if ratio <= target else "OVER"
        ok &= ratio <= target
        print(f"  ratio {label} {ratio:5.2f}x  (target <= {target}x: {verdict})")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
