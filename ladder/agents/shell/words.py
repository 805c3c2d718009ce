"""Shell words as the guard sees them: what is known of a word, and what it may match.

A word is known exactly (`evaluate.py`, `"a b"/c`), or partly: a variable ladder could
not follow, a command substitution, a glob. The unknown pieces become a pattern, and a
pattern is matched against the repository's files, so `rm $(git rev-parse
--git-common-dir)/hooks/pre-commit` or `sed -i ... $F` still name what they can reach.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

UNKNOWN = "\x00"  # a piece of a word whose value the guard cannot know: matches anything
_GLOB = "\x01"  # an unquoted glob character's marker in `pattern` (quoted ones are literal)


@dataclass(frozen=True)
class Word:
    """A word after quote removal: `text` is its value (UNKNOWN for unknown pieces);
    `pattern` marks which `*`, `?` and `[` are unquoted globs."""

    text: str
    pattern: str = ""

    @property
    def known(self) -> bool:
        return UNKNOWN not in self.text and _GLOB not in self.pattern

    @property
    def shown(self) -> str:
        return self.text.replace(UNKNOWN, "…")

    def regex(self) -> re.Pattern[str]:
        """A regex for the paths this word may name (a glob's `*` stays within a path
        component; an unknown piece may span several)."""
        source = self.pattern or self.text
        out: list[str] = []
        i = 0
        while i < len(source):
            ch = source[i]
            if ch == UNKNOWN:
                out.append(".*")
            elif ch == _GLOB and i + 1 < len(source):
                i += 1
                glob = source[i]
                if glob == "*":
                    out.append("[^/]*")
                elif glob == "?":
                    out.append("[^/]")
                else:  # `[`: a bracket expression up to the next `]`
                    end = source.find("]", i + 2)
                    if end < 0:
                        out.append(re.escape("["))
                    else:
                        body = source[i + 1:end].replace(_GLOB, "")
                        negate = body[:1] in ("!", "^")
                        body = body[1:] if negate else body
                        out.append("[" + ("^" if negate else "") + body.replace("\\", "\\\\") + "]")
                        i = end
            else:
                out.append(re.escape(ch))
            i += 1
        return re.compile("".join(out), re.DOTALL)


def literal(text: str) -> Word:
    return Word(text, text.replace(_GLOB, ""))


def dequote(raw: str, values: dict[str, Word]) -> Word:
    """Quote removal of `raw`, whose expansions were replaced by `\\x02N\\x02` keys into
    `values`; unquoted glob characters are marked in the pattern."""
    text: list[str] = []
    pattern: list[str] = []
    quote = ""
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\x02":
            end = raw.index("\x02", i + 1)
            value = values[raw[i + 1:end]]
            text.append(value.text)
            pattern.append(value.pattern or value.text)
            i = end + 1
            continue
        if quote == "'":
            if ch == "'":
                quote = ""
            else:
                text.append(ch)
                pattern.append(ch)
        elif ch == "\\" and i + 1 < len(raw) and (not quote or raw[i + 1] in '"\\$`\n'):
            i += 1
            if raw[i] != "\n":
                text.append(raw[i])
                pattern.append(raw[i])
        elif quote == '"':
            if ch == '"':
                quote = ""
            else:
                text.append(ch)
                pattern.append(ch)
        elif ch in "'\"":
            quote = ch
        elif ch == "$" and raw[i + 1:i + 2] in ("'", '"'):
            pass  # $'...' and $"...": the quotes follow
        else:
            text.append(ch)
            pattern.append(_GLOB + ch if ch in "*?[" else ch)
        i += 1
    return Word("".join(text), "".join(pattern))


_BRACE = re.compile(r"\{([^{}]*,[^{}]*)\}")


def braces(text: str) -> list[str]:
    """Brace expansion of the simple, non-nested kind (`{a,b}.py`), at most 64 words."""
    match = _BRACE.search(text)
    if match is None:
        return [text]
    out: list[str] = []
    for alt in match.group(1).split(","):
        out.extend(braces(text[:match.start()] + alt + text[match.end():]))
        if len(out) >= 64:
            break
    return out[:64]
