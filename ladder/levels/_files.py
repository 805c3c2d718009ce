"""Small helpers the level compilers share: read text exactly, write only on change."""

from __future__ import annotations

from pathlib import Path

from ladder.errors import LadderError


def read_exact(path: Path) -> str | None:
    """The file's text with its line endings untouched; None when it does not exist."""
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError:
        raise LadderError("not UTF-8 text", where=str(path), todo="convert it to UTF-8") from None
    except OSError as exc:
        raise LadderError(f"cannot read: {exc.strerror}", where=str(path)) from None


def write_if_changed(path: Path, text: str) -> bool:
    """Write `text` atomically unless the file already holds exactly it."""
    from ladder.store import atomic_write

    if read_exact(path) == text:
        return False
    atomic_write(path, text)
    return True


def one_line(text: str) -> str:
    """Collapse whitespace (a multi-line `why`) into one line."""
    return " ".join(text.split())
