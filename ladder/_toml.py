"""TOML reading (tomllib on 3.11+, tomli before) with errors that name the file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from ladder.errors import LadderError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib


def loads(text: str, where: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LadderError(
            f"malformed TOML: {exc}", where=where, todo="fix the syntax; `ladder list` re-checks it"
        ) from None


def load(path: Path, where: str | None = None) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LadderError(f"cannot read: {exc.strerror}", where=where or str(path)) from None
    except UnicodeDecodeError:
        raise LadderError("not UTF-8 text", where=where or str(path)) from None
    return loads(text, where or str(path))


def dumps(data: dict[str, Any]) -> str:
    import tomli_w

    return str(tomli_w.dumps(data, multiline_strings=True))
