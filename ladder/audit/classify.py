"""Which prose units are rules: a sentence or list item that tells the reader what to do.

Issue 13: `ladder adopt` imported table-of-contents links, tool descriptions and list
fragments as rules (about 30 of 67 in pydantic-ai). A unit is a rule when it reads as a
directive on its own; everything below decides by class, never by example, and names the
class in its verdict so a surprising answer can be traced.

Decided first, by form:
- `heading`: `# Title`, or a line that is only bold text; `table`: a table row;
- `link`: nothing but links (`- [Setup](#setup)`, a table of contents);
- `checklist` (a rule): a checklist item (`- [ ] ...`, `- \u2705 ...`) states a condition
  the work must meet;
- `definition`: "`--lf`: Run only the last failed tests" describes the code before the
  colon (a flag, a path, a tool); a rule only if it says must, never, do not...;
- `lead-in`: ends with a colon and its content is the list or code that follows ("All
  changes need to:", "Run it when you change:", "Run the full test suite:"). A lead-in
  that is a directive by itself is a rule: an obligation with something after it
  ("always read the directory instructions when working in them:"), or a condition and
  an imperative ("When X applies, run the full sequence in order:");
- `command`: only inline code, or a short label and a command ("run a single test:
  `uv run pytest path::name`");
- `question`: ends with a question mark.
Then by meaning:
- `normative` (a rule): says must, never, always, should, avoid, required, need to,
  make sure, ensure, prefer..., or opens a clause with "do not" / "don't" ("they do not
  set this variable" describes; "Do not set it" directs). "not always" is a hedge;
- `imperative` (a rule): a clause opens with a verb in the base form ("Use X", "When Y,
  run Z", "From the repo root run Z", "- be scoped to the problem", "..., so don't Z"):
  a verb instructions use (`VERBS`), or any word that takes an object at once ("Walk
  each page", "tell us"), not followed by "is/are" or "that affects" (which make it a
  noun: "Check names are descriptive"). "See X" is a cross-reference, not a directive.
What is left is a `fragment` (a list item: "`ruff` via `make lint`", "Python 3.10+") or
a `statement` (a sentence about what is, not what to do).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NOT_RULE = ("heading", "table", "link", "definition", "lead-in", "command", "question", "fragment", "statement")
RULE = ("checklist", "normative", "imperative")


@dataclass(frozen=True)
class Verdict:
    is_rule: bool
    reason: str  # one of NOT_RULE or RULE
    text: str  # the unit as a rule title: markers, emphasis and link targets removed


_MARKER = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")
_CHECKBOX = re.compile(r"^(?:\[[ xX]\]|[\u2705\u2714\u2611\u2610\u274c])\s*")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_REF_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_CODE = re.compile(r"`[^`]*`")
_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")
_BOLD_ONLY = re.compile(r"^(\*\*|__)[^*_]+\1:?$")
_HEADING = re.compile(r"^#{1,6}(\s|$)")
_DEFINITION = re.compile(r"^`[^`]+`\s*:\s")
_NORMATIVE = re.compile(
    r"\b(must|mustn['\u2019]t|never|always|should|shouldn['\u2019]t|shall|avoid|required|mandatory|"
    r"forbidden|prohibited|disallowed|not allowed|not permitted|needs? to|ha(?:ve|s) to|make sure|ensure|"
    r"prefer|preferred)\b",
    re.IGNORECASE,
)
# Not obligations: "not always" hedges, "you'll need to run" foretells.
_HEDGE = re.compile(r"\b(?:not|n['\u2019]t)\s+always\b|\b(?:will|['\u2019]ll|may|might|would)\s+need\s+to\b", re.I)
_DO_NOT = re.compile(r"^(?:do not|don['\u2019]t)\b", re.IGNORECASE)
# Clauses: sentences, `;`, `:`, dashes, and ", so" / ", but" ("..., so don't use it").
_CLAUSE_SPLIT = re.compile(r"(?<=[.;!?])\s+|:\s+|\s+[\u2014\u2013]\s+|\s+--?\s+|,\s+(?=(?:so|but)\s)")
# Words that open a clause before its verb: "When X applies, run it". After a
# conjunction the main clause starts after a comma ("If tests use X:" has none, and its
# "use" belongs to the condition); after a short prepositional phrase it may not
# ("From the repo root run X").
_LEAD_WORDS = re.compile(
    r"^(?:when|whenever|if|before|after|for|while|once|unless|until|during|where|to|with|within|"
    r"except|outside|instead of|as|since|because|in|on|at|from|inside|under|across)\b",
    re.IGNORECASE,
)
_PREPOSITIONS = re.compile(r"^(?:in|on|at|from|inside|under|across|within)\b", re.IGNORECASE)
_CONNECTORS = re.compile(
    r"^(?:(?:then|also|additionally|please|finally|first|next|just|only|still|so|and|or|otherwise|"
    r"silently|explicitly|carefully|manually|proactively|directly|immediately|clearly|consistently|"
    r"strictly|actively|deliberately|automatically|always|never)\b,?\s+)+",
    re.IGNORECASE,
)
# "Check names are descriptive", "work that affects X": a verb-looking word followed by
# is/are, or by a relative pronoun, is a noun phrase.
_SUBJECT_VERB = re.compile(
    r"^\S+(?:\s+[\w-]+){0,2}?\s+(is|are|was|were)\b"
    r"|^\S+\s+(?:that|which|who)\s+(?:\w+s|is|are|was|were|can|will|has|have|does|may|must|should|would|could)\b",
    re.IGNORECASE,
)
# A word that takes an object right away is a verb: "Walk each page", "Produce a report",
# "tell us". Unless it is itself a function word ("Like the others", "Each model"), or
# "see", which points elsewhere ("see `README.md` for details") rather than directs.
_OBJECT_WORDS = "the a an your each every any all this that these those it them us me one only our CODE"
_OBJECTS = frozenset(_OBJECT_WORDS.split())
_FUNCTION_WORD_LIST = """
the a an this that these those it its we you they he she i our your their my his her there here each every
any all some no both either neither most many few one like unlike despite per via across without beyond
besides against about among between through around over into by of at as than so not even also only just
what which who whose why how where when while if see
"""
_FUNCTION_WORDS = frozenset(_FUNCTION_WORD_LIST.split())
# After a leading clause, a main clause has begun once a subject and its verb appear.
_SUBJECT = re.compile(r"\b(?:we|you|they|it|i|he|she)\s+\w+", re.IGNORECASE)

# Verbs that open instructions in agent files and contributing guides (base form only).
_VERB_WORDS = """
add adjust adopt align analyse analyze annotate answer append apply ask assert assume attach attempt
be bump call capture catch change check choose clean clone collect comment commit compare compile
configure confirm consider consolidate consult contact continue convert coordinate copy cover create
cross-reference declare defer define delete demonstrate derive describe design detect determine
document draft drop edit emit enable ensure escape exclude explain explore expose extend extract
favor favour fetch file fill finish fix flag focus follow forward gather generate get give group
handle have hide highlight hit hold identify ignore implement import include inform inspect install
introduce invoke judge keep label leave limit link list load lock log look maintain make map mark
match measure merge migrate mirror mock move name nest note notify obtain omit open order organize
pair parametrize parse pass pause pin ping place post prefer prefix prepare present preserve print
prioritize probe proceed produce propose protect provide pull push put quote raise re-run read
rebase record reduce refactor refer refresh regenerate register reject remember remove rename reopen
repeat replace report reproduce request require rerun reserve reset resist resolve respect restore
retry return reuse revert review rewrite run say scope search select send separate set share ship
show skip sort specify split squash stage start state stay stop store structure submit summarise
summarize surface switch tag take target tell test treat trust try turn update upgrade use validate
verify wait walk warn work wrap write
"""
VERBS = frozenset(_VERB_WORDS.split())


def classify(raw: str) -> Verdict:
    """Decide whether one unit (a list item with its marker, a sentence, a heading...) is a rule."""
    stripped = raw.strip()
    text = clean(stripped)
    reason = _by_form(stripped, text)
    if reason:
        return Verdict(reason in RULE, reason, text)
    if _normative(text):
        return Verdict(True, "normative", text)
    if _imperative(text):
        return Verdict(True, "imperative", text)
    return Verdict(False, "fragment" if _MARKER.match(stripped) else "statement", text)


def clean(raw: str) -> str:
    """The unit as a title: list marker, checkbox, emphasis and link targets removed."""
    text = _CHECKBOX.sub("", _MARKER.sub("", raw.strip()))
    text = _LINK.sub(r"\1", text)
    text = _REF_LINK.sub(r"\1", text)
    text = _EMPHASIS.sub(r"\2", text)
    return re.sub(r"\s+", " ", text).strip()


def _by_form(stripped: str, text: str) -> str:
    """The class a unit's shape decides, or "" when its words must."""
    body = _MARKER.sub("", stripped)
    if _HEADING.match(stripped) or _BOLD_ONLY.match(body):
        return "heading"
    if stripped.startswith("|"):
        return "table"
    if not re.sub(r"[\s,;|/\u00b7.\-\u2013\u2014()]+|\b(?:and|or)\b", "", _LINK.sub("", body)):
        return "link"
    if _CHECKBOX.match(body):
        return "checklist"
    if _DEFINITION.match(body):
        return "normative" if _normative(text) else "definition"
    if text.endswith(":"):
        return _lead_in(text[:-1])
    if not re.sub(r"[\s.,;]", "", _CODE.sub("", text)) or _command_reference(text):
        return "command"
    if text.endswith("?"):
        return "question"
    return ""


def _lead_in(body: str) -> str:
    """A lead-in is a rule when it directs by itself, before what follows its colon."""
    words = _CODE.sub("CODE", body)
    cue = _NORMATIVE.search(words)
    if cue and len(words[cue.end():].split()) >= 2:
        return "normative"
    if _LEAD_WORDS.match(words) and any(_verb_first(r) and len(r.split()) >= 3 for r in _after_lead(words)):
        return "imperative"
    return "lead-in"


def _command_reference(text: str) -> bool:
    """ "typecheck a single file: `uv run pyright f.py`": a short label, then only code."""
    label, sep, rest = _CODE.sub("CODE", text).rpartition(":")
    short = 0 < len(label.split()) <= 6
    return bool(sep and short and rest.strip(" .,;") and not re.sub(r"CODE|[\s.,;]|\b(or|and)\b", "", rest))


def _normative(text: str) -> bool:
    words = _HEDGE.sub(" ", _CODE.sub("CODE", text))
    return bool(_NORMATIVE.search(words)) or any(_DO_NOT.match(c) for c in _clauses(words))


def _imperative(text: str) -> bool:
    """A clause of `text` opens with a base-form verb that is not the subject of is/are."""
    for clause in _clauses(_CODE.sub("CODE", text)):
        starts = _after_lead(clause) if _LEAD_WORDS.match(clause) else [clause]
        if any(_verb_first(rest) for rest in starts):
            return True
    return False


def _clauses(text: str) -> list[str]:
    return [_CONNECTORS.sub("", c.strip(" *_\"'(")).strip() for c in _CLAUSE_SPLIT.split(text)]


def _after_lead(clause: str) -> list[str]:
    """Where the main clause may start after a leading one: after each comma ("Before
    adding async, retry or timeout tests, read..."), or, with no comma, within a short
    phrase ("From the repo root run X")."""
    parts = clause.split(",")
    if len(parts) > 1:
        out = []
        for i in range(1, len(parts)):
            if i > 1 and _SUBJECT.search(parts[i - 1]):
                break  # "On any PR, we may push commits, open...": the main clause was "we may"
            out.append(_CONNECTORS.sub("", ",".join(parts[i:]).strip()))
        return out
    if not _PREPOSITIONS.match(clause):
        return []
    words = clause.split()
    return [" ".join(words[i:]) for i in range(2, min(len(words), 6))]


def _verb_first(rest: str) -> bool:
    """The clause opens with a verb: a known one, or any word that takes an object at once."""
    words = rest.split()
    if _DO_NOT.match(rest):
        return True
    if len(words) < 2 or _SUBJECT_VERB.match(rest):
        return False
    first = words[0].lower().strip(",.").split("/")[0]
    takes_object = words[1].strip(",.") in _OBJECTS and first not in _FUNCTION_WORDS
    return first in VERBS or (takes_object and first.isalpha() and not first.endswith(("s", "ed", "ing", "ly")))
