"""Rule templates: a lesson's `[rule]` arguments in, something an engine runs out.

One module per template, each exposing `TEMPLATE` (see `ladder.rules.base.Template`);
the registry (`ladder.rules.registry`) lists them. Template modules must stay cheap to
import: libcst is imported by the libcst engine, never at module import time here.
"""
