"""Argument parsing for every command (click); the work is in `ladder.commands.*`."""

from __future__ import annotations

import click

from ladder import __version__
from ladder.lesson import MAX_LEVEL, MIN_LEVEL
from ladder.project import Project

LEVEL = click.IntRange(MIN_LEVEL, MAX_LEVEL)
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _project() -> Project:
    return Project.find()


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, prog_name="ladder")
def cli() -> None:
    """Compile lessons up a five-level enforcement ladder: note, prompt, lint, check, hook.

    \b
    Start here:
      ladder init                     set up .ladder/, AGENTS.md and the git hooks
      ladder add "TITLE" --why TEXT   record a lesson (level 1: a note)
      ladder promote ID --max         enforce it as deep as its gates allow
      ladder audit                    the constraint stack: prose against structure
    """


AGENT_CHOICE = click.Choice(["claude", "codex", "aider", "cursor"])
AGENT_HELP = "Also set up this coding agent (repeatable): claude, codex, aider, cursor."
NO_STAGE_HELP = (
    "Do not `git add` what ladder wrote; print the `git add` to run instead "
    "(pre-commit refuses to run while its config is unstaged)."
)


@cli.command(context_settings=CONTEXT)
@click.option(
    "--no-hooks", is_flag=True, help="Do not install the git hooks (CI, read-only checkouts)."
)
@click.option("--agent", "agents", multiple=True, type=AGENT_CHOICE, help=AGENT_HELP)
@click.option("--no-stage", is_flag=True, help=NO_STAGE_HELP)
def init(no_hooks: bool, agents: tuple[str, ...], no_stage: bool) -> int:
    """Create .ladder/, LESSONS.md, the AGENTS.md block, the pre-commit config and hooks.

    Only adds: a LESSONS.md or AGENTS.md of yours gets a managed block, the pre-commit
    config gets lines, modes are kept. Safe to run twice. What it wrote is staged.
    """
    from ladder.commands import init as cmd

    return cmd.run(_project(), install_hooks=not no_hooks, agents=agents, stage=not no_stage)


@cli.command(context_settings=CONTEXT)
@click.argument("title")
@click.option("--why", required=True, help="What happened that taught this lesson.")
@click.option("--tag", "tags", multiple=True, metavar="TAG", help="A tag (repeatable).")
@click.option(
    "--path",
    "paths",
    multiple=True,
    metavar="GLOB",
    help="Where it applies (repeatable; default: everywhere).",
)
@click.option("--source", default="", help="Who or what taught it (an incident, a run).")
@click.option("--id", "lesson_id", default=None, help="The id (default: made from the title).")
def add(
    title: str,
    why: str,
    tags: tuple[str, ...],
    paths: tuple[str, ...],
    source: str,
    lesson_id: str | None,
) -> int:
    """Record a new lesson at level 1 (a note) and print its id."""
    from ladder.commands import add as cmd

    return cmd.run(
        _project(), title=title, why=why, tags=tags, paths=paths, source=source, lesson_id=lesson_id
    )


@cli.command("list", context_settings=CONTEXT)
@click.option("--level", type=LEVEL, default=None, help="Only lessons at this level.")
@click.option("--tag", default=None, help="Only lessons with this tag.")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
def list_(level: int | None, tag: str | None, fmt: str) -> int:
    """List lessons with their level and rule."""
    from ladder.commands import list as cmd

    return cmd.run(_project(), level=level, tag=tag, fmt=fmt)


@cli.command(context_settings=CONTEXT)
@click.argument("lesson_id", metavar="ID")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "toml", "json"]),
    default="text",
    show_default=True,
)
def show(lesson_id: str, fmt: str) -> int:
    """Show one lesson: why, rule, cases and level history."""
    from ladder.commands import show as cmd

    return cmd.run(_project(), lesson_id, fmt=fmt)


@cli.command(context_settings=CONTEXT)
@click.argument("lesson_id", metavar="ID")
@click.argument("rule_args", nargs=-1, metavar="[KEY=VALUE]...")
@click.option("--to", "to", type=LEVEL, default=None, help="Target level (default: one up).")
@click.option("--max", "to_max", is_flag=True, help="As far as the gates allow.")
@click.option(
    "--rule",
    "template",
    default=None,
    metavar="TEMPLATE",
    help="Give the lesson a rule: a template followed by KEY=VALUE arguments.",
)
@click.option(
    "--block",
    "block",
    multiple=True,
    metavar="CODE",
    help="Code the rule must flag (repeatable; @FILE reads a file).",
)
@click.option(
    "--allow",
    "allow",
    multiple=True,
    metavar="CODE",
    help="Code the rule must accept (repeatable; @FILE reads a file).",
)
@click.option("--why", default="", help="Why it is promoted (kept in its history).")
def promote(
    lesson_id: str,
    rule_args: tuple[str, ...],
    to: int | None,
    to_max: bool,
    template: str | None,
    block: tuple[str, ...],
    allow: tuple[str, ...],
    why: str,
) -> int:
    """Move a lesson up the ladder, generating the new level's artifacts.

    \b
    Gates: 3 needs a rule; 4 a structural rule whose block/allow cases pass;
    5 installed hooks, a rule that does not fire on the current tree (checked
    whole, no time limit), and a typical commit's check within hook_budget_ms.
    A refused promotion exits 1 with the reason.

    \b
    Templates: forbid-call name=F | forbid-import module=M | require-call function=F calls=G
               bound name=LR op='<=' value=0.05 (or expr='LR <= 0.05') | protect paths=GLOB,GLOB
               pattern pattern='eval(...)' | regex regex=PATTERN | custom check=module:Class

    \b
    Example:
      ladder promote validate-before-generate --to 5 \\
          --rule require-call function=generate calls=validate_input
    """
    from ladder.commands import promote as cmd

    if to is not None and to_max:
        raise click.UsageError("give --to N or --max, not both")
    return cmd.run(
        _project(),
        lesson_id,
        to=to,
        to_max=to_max,
        template=template,
        rule_args=rule_args,
        block=block,
        allow=allow,
        why=why,
    )


@cli.command(context_settings=CONTEXT)
@click.argument("lesson_id", metavar="ID")
@click.option("--to", "to", type=LEVEL, required=True, help="The lower level.")
@click.option("--why", required=True, help="Why (kept in the lesson's history).")
def demote(lesson_id: str, to: int, why: str) -> int:
    """Move a lesson down the ladder, with the reason recorded."""
    from ladder.commands import demote as cmd

    return cmd.run(_project(), lesson_id, to=to, why=why)


@cli.command(context_settings=CONTEXT)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "markdown"]),
    default="table",
    show_default=True,
)
@click.option(
    "--max-prose",
    type=click.FloatRange(0, 1),
    default=None,
    metavar="FRACTION",
    help="Exit 1 when the prose share (levels 1-2) is above this.",
)
def audit(fmt: str, max_prose: float | None) -> int:
    """The constraint stack: lessons per level, prose against structure, what blocks promotion."""
    from ladder.commands import audit as cmd

    return cmd.run(_project(), fmt=fmt, max_prose=max_prose)


@cli.command(context_settings=CONTEXT)
@click.option("--dry-run", is_flag=True, help="Show what would be adopted.")
def adopt(dry_run: bool) -> int:
    """Turn prose rules found in AGENTS.md, CLAUDE.md, CONTRIBUTING... into level-1 lessons."""
    from ladder.commands import adopt as cmd

    return cmd.run(_project(), dry_run=dry_run)


@cli.command(context_settings=CONTEXT)
@click.argument("files", nargs=-1, type=click.Path())
@click.option(
    "--hook",
    is_flag=True,
    help="Git hook mode: FILES are the staged files (pre-commit passes them).",
)
@click.option("--staged", is_flag=True, help="Check what is staged for the next commit.")
@click.option("--base", default=None, metavar="REV", help="Check what changed since REV (CI).")
@click.option("--ci", is_flag=True, help="Level 4 findings block too, not only level 5.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "sarif"]),
    default="text",
    show_default=True,
)
def check(
    files: tuple[str, ...], hook: bool, staged: bool, base: str | None, ci: bool, fmt: str
) -> int:
    """Run the rules of lessons at levels 3-5. Exit 1 on blocking findings.

    Level 5 blocks; with --ci, level 4 blocks too; level 3 only warns.
    Without FILES, every file git knows (or, with --staged/--base, the changed ones).
    """
    from ladder.commands import check as cmd

    return cmd.run(_project(), files=files, hook=hook, staged=staged, base=base, ci=ci, fmt=fmt)


@cli.command("test", context_settings=CONTEXT)
@click.argument("lesson_ids", nargs=-1, metavar="[ID]...")
def test_(lesson_ids: tuple[str, ...]) -> int:
    """Run every rule's block/allow cases (and semgrep-style annotated test files)."""
    from ladder.commands import test as cmd

    return cmd.run(_project(), lesson_ids=lesson_ids)


@cli.command(context_settings=CONTEXT)
def prompt() -> int:
    """Print the rules section for an agent's proposal prompt (levels 2-5)."""
    from ladder.commands import prompt as cmd

    return cmd.run(_project())


@cli.command(context_settings=CONTEXT)
@click.option(
    "--dir",
    "directory",
    default=None,
    type=click.Path(file_okay=False),
    help="Build the demo repository here instead of a temporary directory.",
)
@click.option(
    "--evaluations",
    type=click.IntRange(2),
    default=64,
    show_default=True,
    help="Evaluation budget (refused and crashed proposals cost none).",
)
@click.option("--iterations", type=click.IntRange(1), default=None, help="Also cap iterations.")
@click.option(
    "--workers", type=click.IntRange(1), default=2, show_default=True, help="Evaluation slots."
)
@click.option(
    "--seeds",
    type=click.IntRange(2),
    default=6,
    show_default=True,
    help="Most paired seeds per decision (a verified keep needs two).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="The run's random seed.")
@click.option("--quiet", "-q", is_flag=True,
              help="No step-by-step output or live progress: the run's summary and where it is.")
def demo(
    directory: str | None, evaluations: int, iterations: int | None, workers: int, seeds: int,
    seed: int, quiet: bool,
) -> int:
    """The embedded default: a torch training program improved by the loop, guarded by level-5 lessons.

    Needs torch (pip install torch==2.13.0 for the CPU build); uses the GPU when there is one.
    """
    from ladder.commands import demo as cmd

    return cmd.run(
        directory=directory, evaluations=evaluations, iterations=iterations, workers=workers,
        seeds=seeds, seed=seed, quiet=quiet,
    )


@cli.group(context_settings=CONTEXT)
def agent() -> None:
    """The autoresearch loop: mutations committed through the hooks, then evaluated.

    Configure it in [tool.ladder.agent] (pyproject.toml) or .ladder/agent.toml.
    """


@agent.command("run", context_settings=CONTEXT)
@click.option(
    "--resume", "resume", default=None, metavar="RUN", help="Continue a killed or stopped run."
)
@click.option("--iterations", type=click.IntRange(1), default=None, help="Iteration budget.")
@click.option("--hours", type=click.FloatRange(0, min_open=True), default=None, help="Time budget.")
@click.option(
    "--evaluations",
    type=click.IntRange(1),
    default=None,
    help="Evaluation budget: single evaluations, baseline, calibration and re-validation included.",
)
@click.option(
    "--strategy", type=click.Choice(["hill", "population", "evolve", "auto"]), default=None
)
@click.option("--workers", type=click.IntRange(1), default=None, help="Evaluation slots.")
@click.option("--seeds", type=click.IntRange(1), default=None, help="Paired seeds per decision.")
@click.option("--seed", type=int, default=None, help="The run's random seed.")
@click.option(
    "--crude", is_flag=True, help="Karpathy's decision: one seed, keep if better (UNVERIFIED)."
)
@click.option(
    "--sandbox",
    type=click.Choice(["auto", "userns", "none"]),
    default=None,
    help="Confine evaluations and the command proposer (default auto: userns where the "
    "machine allows it). docs/security.md says what each mode defends.",
)
@click.option("--force", is_flag=True,
              help="With --resume: continue even when `ladder agent verify` finds tampering.")
@click.option("--reconfigure", is_flag=True,
              help="With --resume: continue under the configuration file as it is now "
              "(budgets, workers, timeout, proposer, strategy, sandbox, learning, executor); without "
              "it a resume uses the run's journaled configuration and refuses an edited one.")
@click.option("--quiet", "-q", is_flag=True,
              help="No per-iteration lines or live progress: only the summary (and errors).")
def agent_run(
    resume: str | None,
    iterations: int | None,
    hours: float | None,
    evaluations: int | None,
    strategy: str | None,
    workers: int | None,
    seeds: int | None,
    seed: int | None,
    crude: bool,
    sandbox: str | None,
    force: bool,
    reconfigure: bool,
    quiet: bool,
) -> int:
    """Run the loop from HEAD (or --resume RUN) until its budget is spent.

    A new run first checks what `ladder agent check` checks (nothing spent; exit 2 with
    each problem and its fix). Progress is live on a terminal, plain lines otherwise.
    A resumed run keeps the configuration and flags it was started with (journaled);
    flags given with --resume change budgets and resources, and are journaled too.
    """
    from ladder.commands import agent as cmd

    overrides = {
        k: v
        for k, v in {
            "iterations": iterations,
            "hours": hours,
            "evaluations": evaluations,
            "strategy": strategy,
            "workers": workers,
            "seeds": seeds,
            "seed": seed,
            "sandbox": sandbox,
        }.items()
        if v is not None
    }
    if crude:
        overrides["decision"] = "crude"
    if reconfigure and resume is None:
        raise click.UsageError("--reconfigure goes with --resume RUN")
    return cmd.run(_project(), resume=resume, overrides=overrides, force=force,
                   reconfigure=reconfigure, quiet=quiet)


@agent.command("check", context_settings=CONTEXT)
@click.option("--no-eval", "no_eval", is_flag=True,
              help="Skip running the evaluation once (it costs one evaluation).")
def agent_check(no_eval: bool) -> int:
    """Check, before a run spends anything, that it can work: ladder's files committed,
    the hooks pass a trivial commit, the editable globs match files and leave the
    evaluator alone, the seeds and budget can keep something; then run the evaluation
    once on HEAD and print the target (one evaluation; --no-eval skips it).
    Exit 2 with one line per problem and its fix."""
    from ladder.commands import agent_check as cmd

    return cmd.run(_project(), evaluate=not no_eval)


@agent.command("status", context_settings=CONTEXT)
@click.argument("run_id", required=False, metavar="[RUN]")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def agent_status(run_id: str | None, fmt: str) -> int:
    """Where a run stands (the newest run by default)."""
    from ladder.commands import agent as cmd

    return cmd.status(_project(), run_id=run_id, fmt=fmt)


@agent.command("verify", context_settings=CONTEXT)
@click.argument("run_id", metavar="RUN")
def agent_verify(run_id: str) -> int:
    """Check the run's hash-chained journal: exit 1 naming any edited, inserted or deleted record."""
    from ladder.commands import agent as cmd

    return cmd.verify(_project(), run_id=run_id)


@agent.command("explain", context_settings=CONTEXT)
@click.argument("run_id", metavar="RUN")
@click.argument("iteration", type=click.IntRange(0))
def agent_explain(run_id: str, iteration: int) -> int:
    """Why a candidate was kept, discarded, quarantined or blocked: n, effect, CI, p, alpha,
    guards, anomalies, and in words."""
    from ladder.commands import explain as cmd

    return cmd.run(_project(), run_id=run_id, iteration=iteration)


@agent.command("review", context_settings=CONTEXT)
@click.argument("run_id", metavar="RUN")
@click.option("--keep", "keep", type=int, default=None, metavar="IT",
              help="Keep quarantined iteration IT (moves branch ladder/RUN to it).")
@click.option("--reject", "reject", type=int, default=None, metavar="IT",
              help="Reject quarantined iteration IT.")
@click.option("--why", default="", help="Why (recorded in the journal).")
def agent_review(run_id: str, keep: int | None, reject: int | None, why: str) -> int:
    """List the run's quarantined candidates, or keep / reject one (journaled)."""
    from ladder.commands import review as cmd

    return cmd.run(_project(), run_id=run_id, keep=keep, reject=reject, why=why)


@agent.command("report", context_settings=CONTEXT)
@click.argument("run_id", required=False, metavar="[RUN]")
@click.option("--out", "out", default=None, metavar="DIR",
              help="Write report.html and progress.png here (default: the run's directory).")
@click.option("--format", "fmt", type=click.Choice(["html", "markdown"]), default="html",
              show_default=True, help="markdown: print a summary for a pull request instead.")
def agent_report(run_id: str | None, out: str | None, fmt: str) -> int:
    """Write the run's report.html and progress.png (the newest run by default): the best
    verified gain with its interval, the progress chart, keeps, guards, blocks, learning."""
    from ladder.commands import agent_report as cmd

    return cmd.run(_project(), run_id=run_id, out=out, fmt=fmt)


@agent.command("list", context_settings=CONTEXT)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def agent_list(fmt: str) -> int:
    """The runs of this repository with their headline results."""
    from ladder.commands import agent_list as cmd

    return cmd.run(_project(), fmt=fmt)


@agent.command("compare", context_settings=CONTEXT)
@click.argument("first", metavar="A")
@click.argument("second", metavar="B")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def agent_compare(first: str, second: str, fmt: str) -> int:
    """Two runs side by side: hit rate, evaluations per keep, blocked share, gain with intervals."""
    from ladder.commands import agent_compare as cmd

    return cmd.run(_project(), first=first, second=second, fmt=fmt)


@cli.group(context_settings=CONTEXT)
def skills() -> None:
    """The skill library: what worked before, versioned in .ladder/skills/."""


@skills.command("list", context_settings=CONTEXT)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--status", type=click.Choice(["active", "deprecated"]), default=None, help="Only skills in this state.")
@click.option("--tag", default=None, help="Only skills with this tag.")
def skills_list(fmt: str, status: str | None, tag: str | None) -> int:
    """List skills with their success statistics."""
    from ladder.commands import skills as cmd

    return cmd.list_(_project(), fmt, status=status, tag=tag)


@skills.command("show", context_settings=CONTEXT)
@click.argument("skill_id", metavar="ID")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def skills_show(skill_id: str, fmt: str) -> int:
    """Show one skill: pattern, evidence, usage and history."""
    from ladder.commands import skills as cmd

    return cmd.show(_project(), skill_id, fmt)


@skills.command("deprecate", context_settings=CONTEXT)
@click.argument("skill_id", metavar="ID")
@click.option("--why", required=True, help="Why (kept in the skill's history).")
def skills_deprecate(skill_id: str, why: str) -> int:
    """Stop injecting a skill; new evidence can reinstate it."""
    from ladder.commands import skills as cmd

    return cmd.deprecate(_project(), skill_id, why)


@skills.command("export", context_settings=CONTEXT)
@click.argument("file", type=click.Path(dir_okay=False))
@click.argument("skill_ids", nargs=-1, metavar="[ID]...")
def skills_export(file: str, skill_ids: tuple[str, ...]) -> int:
    """Write skills (all when no ID is given) with their tags and evidence to FILE."""
    from pathlib import Path

    from ladder.commands import skills as cmd

    return cmd.export(_project(), Path(file), skill_ids)


@skills.command("import", context_settings=CONTEXT)
@click.argument("file", type=click.Path(dir_okay=False))
def skills_import(file: str) -> int:
    """Merge skills exported from another repository into this library."""
    from pathlib import Path

    from ladder.commands import skills as cmd

    return cmd.import_(_project(), Path(file))


@cli.command("try", context_settings=CONTEXT)
@click.option("-m", "--message", "message", required=True, help="What the change does.")
@click.option("--new-baseline", is_flag=True,
              help="Start a new try run at HEAD (a person's call: the old run's records are "
                   "kept beside it).")
def try_(message: str, new_baseline: bool) -> int:
    """One verified iteration for an agent driving its own loop.

    \b
    Commits the working tree through the hooks, evaluates it against its parent on
    paired seeds, decides, records, and resets to the parent on discard. HEAD must be
    the try run's baseline or a commit it kept; anything else is refused (exit 2).
    Exit: 0 keep, 1 discard, 4 blocked, 5 the evaluation crashed (2 bad input).
    """
    from ladder.commands import try_ as cmd

    return cmd.run(_project(), message=message, new_baseline=new_baseline)


@cli.command(context_settings=CONTEXT)
@click.argument("agent", type=click.Choice(["claude", "codex"]))
@click.option("--after", is_flag=True,
              help="The post-tool check: did the call leave protected files, hooks, lessons "
                   "and hook config as they were?")
def guard(agent: str, after: bool) -> int:
    """Judge a coding agent's edit before it lands: the agent's pre-tool hook runs this.

    \b
    Reads the hook event (JSON) on stdin, computes the file the edit would produce,
    and runs the level-5 rules on it (protect included); shell commands that would
    switch enforcement off are refused. Exit 0: allowed, silently. Exit 2: blocked,
    the lessons on stderr (the model reads them). With --after (the post-tool hook):
    exit 2 and what changed when the call touched a protected file, a hook, a lesson
    or git's hook config. Installed by `ladder hooks install --agent claude|codex`.
    See docs/agents.md.
    """
    from ladder.commands import guard as cmd

    return cmd.run(agent, after=after)


@cli.group(context_settings=CONTEXT)
def hooks() -> None:
    """Install, inspect or remove the blocking git hooks (through pre-commit)."""


@hooks.command("install", context_settings=CONTEXT)
@click.option("--agent", "agents", multiple=True, type=AGENT_CHOICE, help=AGENT_HELP)
@click.option("--no-stage", is_flag=True, help=NO_STAGE_HELP)
def hooks_install(agents: tuple[str, ...], no_stage: bool) -> int:
    """Add the ladder hook to .pre-commit-config.yaml and install the git hooks.

    With --agent, also merge ladder's guard or rules into that agent's own configuration.
    What it wrote is staged.
    """
    from ladder.commands import hooks as cmd

    return cmd.install(_project(), agents=agents, stage=not no_stage)


@hooks.command("status", context_settings=CONTEXT)
@click.option("--agent", "agents", multiple=True, type=AGENT_CHOICE, help=AGENT_HELP)
def hooks_status(agents: tuple[str, ...]) -> int:
    """Say whether the config carries the hook and the git hooks are installed (exit 1 if not).

    Agent integrations found in the repository are reported too; --agent requires one.
    """
    from ladder.commands import hooks as cmd

    return cmd.status(_project(), agents=agents)


@hooks.command("uninstall", context_settings=CONTEXT)
def hooks_uninstall() -> int:
    """Remove the git hook scripts (the config entry stays, for teammates)."""
    from ladder.commands import hooks as cmd

    return cmd.uninstall(_project())
