"""The official semgrep rule registry's Python rules, brought into ladder as a user would,
and how many reach level 4 (issue 13: "at least 99% of files").

For every rule file under `python/` of a semgrep-rules checkout (its annotated test files
beside it: `x.yaml`, `x.py`, `x.fixed.py`, `x.html`, ...):

  1. the rule file and its test files are copied to `rules/<same path>` of a fresh git
     repository set up with `ladder init --no-stage`;
  2. one lesson per rule (per rule id of a file with several) is saved with the shipped
     API (`ladder.store.save_lesson`, as the tests do) at level 1, carrying the rule
     `pattern config=rules/... [rule_id=ID]`;
  3. `ladder test` runs once over all lessons (one batched semgrep process for the
     annotated files), for its timing and as a cross-check;
  4. every lesson is promoted through the real gate, one `ladder promote ID --to 4
     --rule pattern config=... [rule_id=...]` each (the command a user types; --jobs of
     them at a time): the verdict and the one-line reason are ladder's own;
  5. `semgrep --test --json` runs over the same `rules/` tree, so each failure is also
     judged by semgrep's own test runner: a file semgrep's test fails is not ladder's
     fault.

A file counts as reaching level 4 when every one of its rules' lessons did. Printed: files
considered (and skipped), rules, files at level 4 (count and share of all files, and of
the files `semgrep --test` itself passes), every failure grouped by reason, the
disagreements between `ladder test` (batched) and `ladder promote` (one lesson) and
between ladder and semgrep, and the time each phase took.

Usage: python bench/semgrep_registry.py PATH_TO_SEMGREP_RULES [--limit N] [--jobs J]
           [--keep DIR] [--json OUT]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ladder.lesson import Lesson, Rule
from ladder.project import Project
from ladder.store import save_lesson
from testing.fixtures import make_repo, set_git_env

LADDER = [sys.executable, "-m", "ladder"]
SEMGREP_FLAGS = ["--metrics=off", "--disable-version-check"]
_ID_CHARS = re.compile(r"[^a-z0-9._-]+")


@dataclass
class RuleFile:
    rel: str  # path under the checkout, e.g. python/lang/security/audit/eval-detected.yaml
    rule_ids: list[str]
    tests: list[str]  # sibling files (same name up to the first dot), relative to the checkout
    lessons: dict[str, str] = field(default_factory=dict)  # rule id -> lesson id


@dataclass
class Verdict:
    lesson: str
    rule_file: str
    rule_id: str
    ok: bool
    reason: str  # ladder's one line (stderr) when refused
    seconds: float


# --- discovery ----------------------------------------------------------------------


def _is_rule_file(path: Path) -> bool:
    """semgrep's rule files: .yaml/.yml, not `x.test.yaml` nor a `.fixed` file."""
    suffixes = path.suffixes
    return (
        bool(suffixes) and suffixes[-1] in (".yaml", ".yml")
        and suffixes[-2:-1] != [".test"] and ".fixed" not in suffixes
    )


def discover(checkout: Path, limit: int | None) -> tuple[list[RuleFile], list[str]]:
    """The rule files under python/ with their rule ids and test files; and the skipped."""
    import yaml

    found, skipped = [], []
    for path in sorted((checkout / "python").rglob("*")):
        if not path.is_file() or not _is_rule_file(path):
            continue
        rel = path.relative_to(checkout).as_posix()
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            ids = [str(r["id"]) for r in data["rules"]]
        except Exception as exc:  # missing from the snapshot, an LFS pointer, not YAML
            skipped.append(f"{rel}: {type(exc).__name__}: {exc}")
            continue
        stem = path.name.split(".", 1)[0]
        tests = sorted(
            p.relative_to(checkout).as_posix() for p in path.parent.iterdir()
            if p.is_file() and p != path and p.name.split(".", 1)[0] == stem
        )
        found.append(RuleFile(rel, ids, tests))
    if limit is not None:
        found = found[:limit]
    return found, skipped


# --- the repository -------------------------------------------------------------------


def _lesson_id(rule_id: str, taken: set[str]) -> str:
    base = _ID_CHARS.sub("-", rule_id.lower()).strip("-._") or "rule"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    taken.add(candidate)
    return candidate


def _rule_args(rf: RuleFile, rule_id: str) -> list[str]:
    args = [f"config=rules/{rf.rel}"]
    if len(rf.rule_ids) > 1:
        args.append(f"rule_id={rule_id}")
    return args


def build_repo(root: Path, checkout: Path, files: Sequence[RuleFile]) -> Project:
    make_repo(root, commit=False)
    run_ladder(root, "init", "--no-stage", check=True)
    project = Project(root)  # after init: .ladder/ exists
    taken: set[str] = set()
    for rf in files:
        for rel in (rf.rel, *rf.tests):
            target = root / "rules" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            # A file the snapshot lacks is left out: its rule file's test shows it.
            with contextlib.suppress(OSError):
                shutil.copyfile(checkout / rel, target)
        for rule_id in rf.rule_ids:
            lesson_id = _lesson_id(rule_id, taken)
            rf.lessons[rule_id] = lesson_id
            args = dict(a.split("=", 1) for a in _rule_args(rf, rule_id))
            save_lesson(project, Lesson(
                id=lesson_id,
                title=f"semgrep rule {rule_id}",
                why=f"semgrep registry: {rf.rel}",
                source="semgrep-rules",
                paths=("**/*.py",),
                rule=Rule(template="pattern", args=args),
            ))
    return project


def run_ladder(root: Path, *args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([*LADDER, *args], cwd=root, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise SystemExit(f"ladder {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc


# --- the phases -------------------------------------------------------------------------


def ladder_test(root: Path) -> tuple[dict[str, list[str]], float, int]:
    """`ladder test` over every lesson: the FAIL lines of each lesson, seconds, exit code."""
    start = time.perf_counter()
    proc = run_ladder(root, "test")
    seconds = time.perf_counter() - start
    fails: dict[str, list[str]] = defaultdict(list)
    for line in proc.stdout.splitlines():
        m = re.match(r"^(ok|FAIL)\s+(\S+)\s+(.*)$", line)
        if m is None:
            continue
        fails.setdefault(m.group(2), [])
        if m.group(1) == "FAIL":
            fails[m.group(2)].append(m.group(3))
    if proc.returncode not in (0, 1):
        print(f"warning: ladder test exited {proc.returncode}: {proc.stderr.strip()[:500]}", file=sys.stderr)
    return dict(fails), seconds, proc.returncode


def promote_one(root: Path, rf: RuleFile, rule_id: str) -> Verdict:
    lesson = rf.lessons[rule_id]
    start = time.perf_counter()
    proc = run_ladder(root, "promote", lesson, "--to", "4", "--rule", "pattern", *_rule_args(rf, rule_id))
    seconds = time.perf_counter() - start
    ok = proc.returncode == 0 and "-> 4 (check)" in proc.stdout
    reason = ""
    if not ok:
        lines = [x for x in proc.stderr.splitlines() if x.strip()]
        reason = lines[0] if lines else f"exit {proc.returncode}, no message; stdout: {proc.stdout.strip()}"
    return Verdict(lesson, rf.rel, rule_id, ok, reason, seconds)


def promote_all(root: Path, files: Sequence[RuleFile], jobs: int) -> tuple[list[Verdict], float]:
    work = [(rf, rid) for rf in files for rid in rf.rule_ids]
    start = time.perf_counter()
    done: list[Verdict] = []
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for n, verdict in enumerate(pool.map(lambda w: promote_one(root, *w), work), 1):
            done.append(verdict)
            if n % 25 == 0 or n == len(work):
                print(f"  promoted {n}/{len(work)} ({time.perf_counter() - start:.0f} s)", file=sys.stderr)
    return done, time.perf_counter() - start


def semgrep_command() -> list[str]:
    here = shutil.which("semgrep", path=str(Path(sys.executable).parent))
    return [here or shutil.which("semgrep") or "semgrep"]


def semgrep_test(root: Path) -> tuple[dict[str, tuple[bool, str]], float]:
    """`semgrep --test --json rules/`: rule file (rules/...) -> (passed, why not)."""
    start = time.perf_counter()
    proc = subprocess.run(
        [*semgrep_command(), "--test", *SEMGREP_FLAGS, "--json", "rules/"],
        cwd=root, capture_output=True, text=True, check=False,
    )
    seconds = time.perf_counter() - start
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        raise SystemExit(f"semgrep --test gave no JSON (exit {proc.returncode}): {proc.stderr[-2000:]}") from None
    verdicts: dict[str, tuple[bool, str]] = {}

    def fail(config: str, why: str) -> None:
        old = verdicts.get(config, (True, ""))
        verdicts[config] = (False, old[1] or why)

    for config, result in data.get("results", {}).items():
        config = os.path.relpath(config, root) if os.path.isabs(config) else os.path.normpath(config)
        verdicts.setdefault(config, (True, ""))
        for check_id, check in result.get("checks", {}).items():
            if not check.get("passed"):
                if check.get("errors"):
                    fail(config, f"{check_id}: semgrep reported an error on a test file")
                else:
                    fail(config, f"{check_id}: expected and reported lines differ")
    for entry in data.get("config_with_errors", []):
        config = os.path.normpath(str(entry.get("filename")))
        fail(config, f"the config produced an error: {str(entry.get('error'))[:200]}")
    for target, result in data.get("fixtest_results", {}).items():
        if not result.get("passed"):
            target = os.path.normpath(target)
            stem = Path(target).name.split(".", 1)[0]
            for config in [c for c in verdicts if Path(c).parent == Path(target).parent
                           and Path(c).name.split(".", 1)[0] == stem] or [target]:
                fail(config, f"the .fixed comparison of {target} differs")
    return verdicts, seconds


# --- the report -------------------------------------------------------------------------


def category(reason: str) -> str:
    """A reason with its specifics (lesson ids, paths, line numbers) taken out, to group on."""
    text = reason.removeprefix("ladder: error: ")
    text = re.sub(r"cannot promote '[^']+' to level 4 \(check\): ", "", text)
    first = text.split("; ")[0]
    first = re.sub(r"annotated:\S+?:", "annotated:FILE:", first)
    first = re.sub(r"rules/\S+", "FILE", first)
    first = re.sub(r"'[^']*'", "'X'", first)
    first = re.sub(r"`[^`]*`", "`X`", first)
    first = re.sub(r"\d+", "N", first)
    return first[:160]


def report(
    files: Sequence[RuleFile], skipped: Sequence[str], verdicts: Sequence[Verdict],
    tested: dict[str, list[str]], sg: dict[str, tuple[bool, str]], times: dict[str, float],
) -> dict[str, object]:
    by_file: dict[str, list[Verdict]] = defaultdict(list)
    for v in verdicts:
        by_file[v.rule_file].append(v)
    n_files, n_rules = len(files), sum(len(rf.rule_ids) for rf in files)
    passed_files = [rf.rel for rf in files if all(v.ok for v in by_file[rf.rel])]
    sg_pass = {rf.rel for rf in files if sg.get(f"rules/{rf.rel}", (False, "not in semgrep's output"))[0]}
    ok_rules = sum(v.ok for v in verdicts)

    def pct(a: int, b: int) -> str:
        return f"{100 * a / b:.1f}%" if b else "n/a"

    print()
    print("== semgrep registry (python/) through ladder's level-4 gate ==")
    print(f"files considered:            {n_files}" + (f"  (skipped: {len(skipped)})" if skipped else ""))
    for s in skipped:
        print(f"  skipped {s}")
    print(f"rules (lessons):             {n_rules}  ({ok_rules} reached level 4, {pct(ok_rules, n_rules)})")
    print(f"files at level 4:            {len(passed_files)}/{n_files} = {pct(len(passed_files), n_files)}")
    in_sg = [rf for rf in files if rf.rel in sg_pass]
    passed_in_sg = [rf for rf in in_sg if rf.rel in passed_files]
    print(f"semgrep --test passes:       {len(in_sg)}/{n_files} files")
    print(f"files at level 4 among those semgrep --test passes: "
          f"{len(passed_in_sg)}/{len(in_sg)} = {pct(len(passed_in_sg), len(in_sg))}")

    groups: dict[str, list[Verdict]] = defaultdict(list)
    for v in verdicts:
        if not v.ok:
            groups[category(v.reason)].append(v)
    print()
    print(f"failures: {sum(len(g) for g in groups.values())} rules in "
          f"{n_files - len(passed_files)} files, by reason:")
    for cat, members in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        print(f"\n[{len(members)}] {cat}")
        for v in members:
            sgv = sg.get(f"rules/{v.rule_file}", (False, "not in semgrep's output"))
            sg_text = "semgrep --test: pass" if sgv[0] else f"semgrep --test: FAIL ({sgv[1]})"
            print(f"  {v.rule_file} [{v.rule_id}] ({sg_text})")
            print(f"      {v.reason}")

    # Cross-checks: the batched `ladder test` against the one-lesson gate; ladder against semgrep.
    disagree_test = []
    for v in verdicts:
        test_ok = not tested.get(v.lesson, ["(not in ladder test's output)"])
        if test_ok != v.ok:
            disagree_test.append((v, tested.get(v.lesson)))
    print()
    print(f"`ladder test` (batched) vs `ladder promote` (one lesson) disagree on {len(disagree_test)} lessons")
    for v, lines in disagree_test:
        print(f"  {v.lesson} ({v.rule_file}): promote {'ok' if v.ok else 'refused'}; test "
              f"{'ok' if not lines else 'FAIL: ' + lines[0]}")
    only_ladder_fails = [f for f in (rf.rel for rf in files) if f in sg_pass and f not in passed_files]
    only_sg_fails = [f for f in passed_files if f not in sg_pass]
    print(f"files semgrep --test passes but ladder refuses: {len(only_ladder_fails)}")
    for f in only_ladder_fails:
        print(f"  {f}")
    print(f"files ladder passes but semgrep --test fails:  {len(only_sg_fails)}")
    for f in only_sg_fails:
        print(f"  {f}: {sg.get(f'rules/{f}', (False, 'not in output'))[1]}")

    print()
    print("time: " + ", ".join(f"{k} {v:.1f} s" for k, v in times.items()))
    slow = sorted(verdicts, key=lambda v: -v.seconds)[:3]
    if verdicts:
        mean = sum(v.seconds for v in verdicts) / len(verdicts)
        print(f"promote: {mean:.2f} s per lesson on average; slowest "
              + ", ".join(f"{v.lesson} {v.seconds:.1f} s" for v in slow))
    return {
        "files": n_files, "skipped": list(skipped), "rules": n_rules, "rules_at_4": ok_rules,
        "files_at_4": len(passed_files), "semgrep_test_passes": len(in_sg),
        "files_at_4_among_semgrep_passes": len(passed_in_sg),
        "failures": [v.__dict__ | {"category": category(v.reason),
                                   "semgrep_test": sg.get(f"rules/{v.rule_file}", (False, ""))}
                     for v in verdicts if not v.ok],
        "ladder_test_vs_promote": [(v.lesson, v.ok, lines) for v, lines in disagree_test],
        "semgrep_passes_ladder_refuses": only_ladder_fails,
        "ladder_passes_semgrep_fails": only_sg_fails,
        "times_s": times,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkout", type=Path, help="a semgrep-rules checkout (the python/ folder is used)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N rule files (sorted by path)")
    parser.add_argument("--jobs", type=int, default=2, help="`ladder promote` processes at a time (default 2)")
    parser.add_argument("--keep", type=Path, default=None, help="build the repository here and keep it")
    parser.add_argument("--json", type=Path, default=None, help="also write the results as JSON")
    args = parser.parse_args(argv)
    set_git_env()
    checkout = args.checkout.resolve()
    if not (checkout / "python").is_dir():
        parser.error(f"{checkout} has no python/ folder")

    times: dict[str, float] = {}
    t0 = time.perf_counter()
    files, skipped = discover(checkout, args.limit)
    with tempfile.TemporaryDirectory(prefix="ladder-semgrep-registry-") as tmp:
        root = args.keep.resolve() if args.keep else Path(tmp) / "repo"
        if args.keep and root.exists():
            parser.error(f"{root} exists; --keep needs a new directory")
        start = time.perf_counter()
        build_repo(root, checkout, files)
        times["setup"] = time.perf_counter() - start
        n_rules = sum(len(rf.rule_ids) for rf in files)
        print(f"{len(files)} rule files, {n_rules} rules, in {root}", file=sys.stderr)

        tested, times["ladder test (all lessons, one run)"], _ = ladder_test(root)
        print(f"  ladder test: {times['ladder test (all lessons, one run)']:.1f} s", file=sys.stderr)
        verdicts, times[f"ladder promote x{n_rules} (--jobs {args.jobs})"] = promote_all(root, files, args.jobs)
        sg, times["semgrep --test (all files)"] = semgrep_test(root)
        print(f"  semgrep --test: {times['semgrep --test (all files)']:.1f} s", file=sys.stderr)
        times["total"] = time.perf_counter() - t0
        result = report(files, skipped, verdicts, tested, sg, times)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
