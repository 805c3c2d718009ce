"""The autoresearch loop: propose, commit through the hooks, evaluate, decide, learn.

Layout: `config` (the [tool.ladder.agent] table), `records` (the plain data every part
exchanges, and the Protocols of the pluggable families), `journal` (the hash-chained
audit trail), `workspace` (git worktrees, commits through the hooks, refs and notes),
`evaluate` + `executors/` (the evaluation contract and where it runs: local, Ray), `proposers/`,
`strategies/`, `decide` (the decision seam), `loop` (the orchestration).
"""
