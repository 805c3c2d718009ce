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
KEY = "\ue000"  # brackets an expansion's key in a raw word (control characters are stripped
# from commands first, and private-use characters never name a file)
_CLASSES = {"alpha": "a-zA-Z", "digit": "0-9", "alnum": "a-zA-Z0-9", "upper": "A-Z",
            "lower": "a-z", "space": " \\t\\n", "punct": "!-/:-@\\[-`{-~", "xdigit": "0-9A-Fa-f",
            "word": "a-zA-Z0-9_"}


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
                start = not out or out[-1].endswith("/")
                if glob == "*" and source[i + 1:i + 3] == _GLOB + "*":
                    # `**` (globstar): any depth, `**/` none too
                    out.append("(?:.*/)?" if source[i + 3:i + 4] == "/" else ".*")
                    i += 3 if source[i + 3:i + 4] == "/" else 2
                elif glob == "*":
                    out.append(("(?!\\.)" if start else "") + "[^/]*")  # no dotfiles, as bash
                elif glob == "?":
                    out.append(("(?!\\.)" if start else "") + "[^/]")
                else:  # `[`: a bracket expression up to the next `]`
                    end = source.find("]", i + 2)
                    if end < 0:
                        out.append(re.escape("["))
                    else:
                        body = source[i + 1:end].replace(_GLOB, "")
                        if body.startswith("[:") and source[end + 1:end + 2] == "]":
                            end += 1  # `[[:alpha:]]`: the class's own brackets
                            body = body + "]"
                        negate = body[:1] in ("!", "^")
                        body = body[1:] if negate else body
                        for name, chars in _CLASSES.items():
                            body = body.replace(f"[:{name}:]", chars)
                        out.append("[" + ("^" if negate else "") + body.replace("\\", "\\\\") + "]")
                        i = end
            else:
                out.append(re.escape(ch))
            i += 1
        try:
            return re.compile("".join(out), re.DOTALL)
        except re.error:  # a bracket expression bash would take literally (`[z-a]`)
            return re.compile(re.escape(self.text).replace(re.escape(UNKNOWN), ".*"), re.DOTALL)


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
        if ch == KEY:
            end = raw.index(KEY, i + 1)
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
        elif ch == "$" and raw[i + 1:i + 2] == "'":
            end = raw.find("'", i + 2)
            while end > 0 and raw[end - 1] == "\\" and raw[end - 2:end] != "\\\\":
                end = raw.find("'", end + 1)
            body = raw[i + 2:end if end > 0 else len(raw)]
            decoded = _ansi_c(body)
            text.append(decoded)
            pattern.append(decoded)
            i = (end if end > 0 else len(raw)) + 1
            continue
        elif ch in "'\"":
            quote = ch
        elif ch == "$" and raw[i + 1:i + 2] == '"':
            pass  # $"...": the quotes follow
        elif ch in "?*+@!" and raw[i + 1:i + 2] == "(":
            # extglob `+(a|b)`, `!(x)`: any name (a superset of what it matches)
            depth, j = 0, i + 1
            while j < len(raw):
                depth += {"(": 1, ")": -1}.get(raw[j], 0)
                if depth == 0:
                    break
                j += 1
            text.append(raw[i:j + 1])
            pattern.append(_GLOB + "*")
            i = j + 1
            continue
        else:
            text.append(ch)
            pattern.append(_GLOB + ch if ch in "*?[" else ch)
        i += 1
    return Word("".join(text), "".join(pattern))


def _ansi_c(body: str) -> str:
    """The value of `$'...'` (bash's ANSI-C quoting)."""
    import codecs

    try:
        return codecs.decode(body.encode("latin-1", "backslashreplace"), "unicode_escape")
    except (UnicodeDecodeError, ValueError):
        return body


_BRACE = re.compile(r"\{([^{}]*,[^{}]*)\}")
_RANGE = re.compile(r"\{(-?\w+)\.\.(-?\w+)\}")


def braces(text: str) -> list[str]:
    """Brace expansion: lists (`{a,b}.py`) and ranges (`{1..3}`, `{a..c}`), not nested,
    at most 64 words."""
    match = _BRACE.search(text)
    alts: list[str] = []
    if match is not None:
        alts = match.group(1).split(",")
    else:
        match = _RANGE.search(text)
        if match is None:
            return [text]
        lo, hi = match.group(1), match.group(2)
        if lo.lstrip("-").isdigit() and hi.lstrip("-").isdigit():
            a, b = int(lo), int(hi)
            alts = [str(n) for n in range(a, b + (1 if b >= a else -1), 1 if b >= a else -1)][:64]
        elif len(lo) == 1 and len(hi) == 1:
            a, b = ord(lo), ord(hi)
            alts = [chr(n) for n in range(a, b + (1 if b >= a else -1), 1 if b >= a else -1)][:64]
        else:
            return [text]
    out: list[str] = []
    for alt in alts:
        out.extend(braces(text[:match.start()] + alt + text[match.end():]))
        if len(out) >= 64:
            break
    return out[:64]
