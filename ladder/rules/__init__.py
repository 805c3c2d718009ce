"""Rule engines and templates (see `ladder.rules.base` for the two protocols)."""
