"""Coding-agent integrations: one module per agent, in a plain registry.

Each agent's module knows its own configuration file and how to merge ladder's entries
into it (`install`, `status`); agents with a blocking pre-tool hook also turn their
hook event into pending edits for `ladder guard`:

| agent  | file ladder writes        | surface                                            |
|--------|---------------------------|----------------------------------------------------|
| claude | .claude/settings.json     | PreToolUse hook: `ladder guard claude` blocks      |
| codex  | .codex/hooks.json         | PreToolUse hook: `ladder guard codex` blocks       |
| aider  | .aider.conf.yml           | lint-cmd `ladder check` + read AGENTS.md           |
| cursor | .cursor/rules/ladder.mdc  | an always-applied rule file: prose only            |

The registry is `ladder.agents.registry.AGENTS`. This package imports nothing itself, so
`ladder guard` loads only the agent it serves.
"""
