"""Quick search over customers: substring of name/code/keyword/phones, and pinyin full or initials.

On PostgreSQL every branch of the search is answered by an index, so that the OR of the branches
becomes a BitmapOr and never a sequential scan over a million customers (DESIGN.md):

- Chinese (or mixed) queries: the GIN index over `string_to_array(name_grams, ' ')` — the name's
  1- and 2-character substrings. A query of 1–2 characters is one gram; a longer one needs all of
  its 2-grams, and the name is rechecked for the whole substring.
- Latin letters/digits: trigram indexes on `name_pinyin`, `name_initials` (stored lower-case, so
  a case-sensitive `LIKE`) and `upper(name)` (Django's `icontains`). Trigrams cannot answer 1–2
  characters: the name goes through the gram index; pinyin and initials are then a filter on the
  rows of the user's scope (full pinyin only for letter pairs that can occur in a spelling).
- Code: exact match (unique index); phone/mobile: prefix (text_pattern_ops indexes, migration
  0003); keyword: prefix on `upper(keyword)`, substring through its trigram index for 3+ chars.

On SQLite (development, tests) the same matches are expressed with portable lookups.
"""

import re
import unicodedata

from django.db import connection
from django.db.models import BooleanField, F, Func, Q, Value

MAX_QUERY_LENGTH = 100


class GramsContain(Func):
    """`string_to_array(name_grams, ' ') @> ARRAY[…]::text[]`, written exactly as the GIN index
    customer_grams_gin (migration 0002) is, so that PostgreSQL uses it. PostgreSQL only."""

    output_field = BooleanField()

    def __init__(self, grams: list[str]):
        super().__init__(F("name_grams"), *[Value(gram) for gram in grams])

    def as_sql(self, compiler, connection, **extra_context):
        sqls, params = [], []
        for expression in self.get_source_expressions():
            sql, expression_params = compiler.compile(expression)
            sqls.append(sql)
            params.extend(expression_params)
        column, grams = sqls[0], sqls[1:]
        return f"string_to_array({column}, ' ') @> ARRAY[{', '.join(grams)}]::text[]", params


def normalize(query: str) -> str:
    """What the name_grams column holds for the same text: NFKC, lower-case, no whitespace."""
    text = unicodedata.normalize("NFKC", query).lower()
    return "".join(ch for ch in text if not ch.isspace())


def query_grams(text: str) -> list[str]:
    """The grams a name must contain to contain `text`: itself when short, else its 2-grams."""
    if len(text) <= 2:
        return [text]
    return list(dict.fromkeys(text[i : i + 2] for i in range(len(text) - 1)))


# Two letters that can stand side by side in a pinyin spelling: inside a syllable (a vowel, zh/ch/sh)
# or across syllables after a final n/g/r. Other pairs (zx, tc, qx) never occur in the full pinyin
# of Chinese characters, so searching it cannot find anything the initials and the name's own
# letters (name_grams) do not; trigrams cannot answer a 2-letter LIKE, so it would only cost a scan.
_PINYIN_PAIR = re.compile(r"[aeiouv]|^(zh|ch|sh)$|^[nrg]")


def _may_occur_in_pinyin(text: str) -> bool:
    return len(text) > 2 or bool(_PINYIN_PAIR.search(text))


def _is_phone_like(text: str) -> bool:
    return any(ch.isdigit() for ch in text) and all(ch.isdigit() or ch in "+-() " for ch in text)


def search_q(query: str, *, vendor: str | None = None, hidden: frozenset[str] = frozenset()) -> Q:
    """Quick search: name/code/keyword/phone substring, and pinyin full or initials.

    `vendor` defaults to the database in use ("postgresql" builds the index-friendly form).
    `hidden`: fields the user may not see (ORG-8), which the search then does not look at."""
    query = query.strip()[:MAX_QUERY_LENGTH]
    if not query:
        return Q()
    if (vendor or connection.vendor) != "postgresql":
        q = _portable_q(query, hidden)
    else:
        q = _postgresql_q(query, hidden)
    return q


def _without(hidden: frozenset[str], **lookups) -> Q:
    """OR of the lookups whose field is not hidden."""
    q = Q(pk__in=[])
    for lookup, value in lookups.items():
        if lookup.split("__")[0] not in hidden:
            q |= Q(**{lookup: value})
    return q


def _portable_q(query: str, hidden: frozenset[str] = frozenset()) -> Q:
    lowered = query.lower()
    q = Q(name__icontains=query) | _without(
        hidden,
        code__iexact=query,
        keyword__icontains=query,
        mobile__startswith=query,
        phone__startswith=query,
    )
    if lowered.isascii() and lowered.isalnum():
        q |= Q(name_pinyin__contains=lowered) | Q(name_initials__contains=lowered)
    return q


def _postgresql_q(query: str, hidden: frozenset[str] = frozenset()) -> Q:
    text = normalize(query)
    if not text:
        return Q(pk__in=[])
    # Name substring.
    if len(text) <= 2 or not text.isascii():
        name = Q(GramsContain(query_grams(text)))
        if len(text) > 2:
            name &= Q(name__icontains=query)
    else:
        name = Q(name__icontains=query)
    q = name
    # Pinyin: full spelling and initials, stored lower-case → case-sensitive LIKE on the trigram index.
    lowered = query.lower()
    if lowered.isascii() and lowered.isalnum():
        q |= Q(name_initials__contains=lowered)
        if _may_occur_in_pinyin(lowered):
            q |= Q(name_pinyin__contains=lowered)
    # Code: exact, through the unique index (codes are upper-case: KH20261123…).
    if "code" not in hidden:
        q |= Q(code__in=list(dict.fromkeys([query, query.upper()])))
    # Keyword: prefix (btree on upper(keyword)); substring for 3+ characters (trigram on upper(keyword)).
    if "keyword" not in hidden:
        q |= Q(keyword__icontains=query) if len(query) >= 3 else Q(keyword__istartswith=query)
    # Phones: prefix, only for what can be a phone number.
    if _is_phone_like(query):
        q |= _without(hidden, mobile__startswith=query, phone__startswith=query)
    return q
