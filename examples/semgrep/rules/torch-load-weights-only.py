# Annotated test file for rules/torch-load-weights-only.yaml, judged as semgrep --test
# judges it (see docs/rules.md, `pattern`). A `ruleid` comment names a rule that must
# flag the line below it; an `ok` comment, one that must not. A finding on a line
# that no `ruleid` comment is about fails the test.
import torch

# ruleid: torch-load-weights-only
state = torch.load("checkpoint.pt")

# ruleid: torch-load-weights-only
state = torch.load(path, map_location="cpu")

# ok: torch-load-weights-only
state = torch.load("checkpoint.pt", weights_only=True)

# ok: torch-load-weights-only
state = torch.load(path, map_location="cpu", weights_only=True)
model.load_state_dict(state)
