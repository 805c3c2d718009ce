"""Level 5: lessons bound to git through the pre-commit framework.

The path of a commit::

    git commit
      -> .git/hooks/pre-commit          (script written by `pre-commit install`,
                                         `ladder hooks install` runs it for the
                                         pre-commit and pre-push hook types)
      -> pre-commit reads .pre-commit-config.yaml and runs its `repo: local` hook
         `ladder-check`: `ladder check --hook <staged files>`
      -> ladder checks the staged files against every lesson at level 5
      -> exit 1 on a finding: pre-commit fails, git refuses the commit

`ladder.hooks.precommit` owns the config entry (`ensure_config`, merged into the
user's file without disturbing it) and the git hook scripts (`install`, `uninstall`,
`status`). `ladder.hooks.fast` is the hook's start-up fast path.

This package's `__init__` stays import-free: it sits on the commit hook's hot path.
"""
