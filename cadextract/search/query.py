"""The `search` query language, parsed and checked in pure Python (no database).

Web-search syntax, as ``websearch_to_tsquery`` and search engines read it:

- words are ANDed: ``bracket steel``;
- ``"quoted words"`` must appear together, in that order;
- ``-word`` or ``-"a phrase"`` excludes;
- ``or`` between two terms accepts either: ``M6x20 or M8x25``;
- ``word*`` matches by prefix: ``CX-10*``.

Punctuation is never a syntax error: it separates words as it does in the index. A
query must hold at least one word to look for; that and the length limit are the only
ways to get it wrong (:class:`BadQuery`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from cadextract.search.document import TITLE_BLOCK_FIELDS, normalise, normalise_value

MAX_QUERY_CHARS = 1000
MAX_TERMS = 64
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')


class BadQuery(ValueError):
    """The query or a filter cannot be searched for; the message says why in one line."""


class Kind(StrEnum):
    PHRASE = "phrase"  # words in order (one word is a phrase of one)
    PREFIX = "prefix"  # the last word is a prefix


@dataclass(frozen=True)
class Term:
    text: str
    kind: Kind = Kind.PHRASE
    negated: bool = False


@dataclass(frozen=True)
class Query:
    """Clauses that must all match; a clause matches when any of its terms does (``or``)."""

    clauses: tuple[tuple[Term, ...], ...]

    def sql(self, config: str = "cadextract.cx") -> tuple[str, dict[str, str]]:
        """A tsquery expression with bound parameters (``:q0``, ``:q1``…)."""
        params: dict[str, str] = {}
        ands = []
        for clause in self.clauses:
            ors = []
            for term in clause:
                name = f"q{len(params)}"
                if term.kind is Kind.PREFIX:
                    params[name] = _prefix_literal(term.text)
                    atom = f"to_tsquery('{config}', :{name})"
                else:
                    params[name] = term.text
                    atom = f"phraseto_tsquery('{config}', :{name})"
                ors.append(f"!!{atom}" if term.negated else atom)
            ands.append("(" + " || ".join(ors) + ")")
        return " && ".join(ands), params


def _has_word(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def _prefix_literal(text: str) -> str:
    """``'text':*`` for to_tsquery: quoted, so no character of the user's is an operator."""
    quoted = text.replace("\\", "\\\\").replace("'", "''")
    return f"'{quoted}':*"


def parse(raw: str) -> Query:
    """The query a user typed, or BadQuery saying what is wrong with it."""
    if len(raw) > MAX_QUERY_CHARS:
        raise BadQuery(f"the query is {len(raw):,} characters long; the limit is {MAX_QUERY_CHARS:,}")
    text = normalise(raw).replace("\n", " ")
    if not text.strip():
        raise BadQuery("the query is empty: give a word to search for (e.g. cadextract search CX-1001)")
    clauses: list[list[Term]] = []
    join_next = False
    for match in _TOKEN.finditer(text):
        neg_quote, quoted, bare = match.groups()
        if bare is not None and bare.lower() == "or":
            join_next = bool(clauses)  # a leading "or" has nothing to join
            continue
        term = _term(neg_quote, quoted, bare)
        if not _has_word(term.text):
            continue  # punctuation on its own only separates words: nothing to look for
        if join_next:
            clauses[-1].append(term)
        else:
            clauses.append([term])
        join_next = False
    if not clauses:
        raise BadQuery(f"the query {raw.strip()[:60]!r} has no letters or digits to search for")
    if all(t.negated for clause in clauses for t in clause):
        raise BadQuery("a query cannot only exclude (-word): give a word to search for as well")
    terms = sum(len(c) for c in clauses)
    if terms > MAX_TERMS:
        raise BadQuery(f"the query has {terms} terms; the limit is {MAX_TERMS}")
    return Query(tuple(tuple(c) for c in clauses))


def _term(neg_quote: str | None, quoted: str | None, bare: str | None) -> Term:
    if quoted is not None:
        return Term(quoted.strip(), Kind.PHRASE, negated=neg_quote == "-")
    word = bare or ""
    negated = word.startswith("-") and len(word) > 1
    if negated:
        word = word[1:]
    if word.endswith("*") and _has_word(word):
        return Term(word.rstrip("*"), Kind.PREFIX, negated)
    return Term(word, Kind.PHRASE, negated)


@dataclass(frozen=True)
class Filters:
    """Everything `search` narrows by besides the query."""

    formats: tuple[str, ...] = ()
    batch: str | None = None
    path_glob: str | None = None
    fields: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    def field_keys(self) -> list[str]:
        return [f"{name}={normalise_value(value)}" for name, value in self.fields]


def parse_field(raw: str) -> tuple[str, str]:
    """``revision=B`` -> ("revision", "B"); BadQuery for an unknown field or no value."""
    name, sep, value = raw.partition("=")
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    if not sep or not key:
        raise BadQuery(f"--field {raw!r}: write it as NAME=VALUE, e.g. --field revision=B")
    if key not in TITLE_BLOCK_FIELDS:
        raise BadQuery(
            f"--field {name.strip()!r} is not a title-block field; use one of {', '.join(TITLE_BLOCK_FIELDS)}"
        )
    if not normalise_value(value):
        raise BadQuery(f"--field {key}= needs a value, e.g. --field {key}=B")
    return key, value
