"""Running the real `ladder` command in a subprocess, as users and git hooks do."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def ladder(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ladder", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
