# Annotated test file for rules/torch-load-weights-only.yaml, semgrep --test style:
# `# ruleid: ID` marks the next line as one the rule must flag, `# ok: ID` one it must not.
# The id may be the YAML rule's id or the lesson's.
import torch

# ruleid: torch-load-weights-only
state = torch.load("checkpoint.pt")

# ruleid: torch-load-weights-only
state = torch.load(path, map_location="cpu")

# ok: torch-load-weights-only
state = torch.load("checkpoint.pt", weights_only=True)

# ok: torch-load-weights-only
state = torch.load(path, map_location="cpu", weights_only=True)

model.load_state_dict(state)  # ok: torch-load-weights-only
