"""One module per CLI command, each a typed `run(...)` returning an exit code."""
