"""Text helpers for customers: search columns (pinyin, initials, substrings) and code checks."""

import itertools
import re
import unicodedata

from pypinyin import Style, pinyin

MAX_READINGS = 8  # heteronym combinations kept per name; enough for real company names


def _readings(name: str) -> list[list[str]]:
    """Per character, its pinyin readings (heteronyms included); non-Chinese kept as itself."""
    result = []
    for chunk in pinyin(name, style=Style.NORMAL, heteronym=True, errors=lambda s: [c for c in s]):
        if len(chunk) == 1 and not chunk[0].isascii():
            chunk = [chunk[0]]
        result.append([r.lower() for r in dict.fromkeys(chunk) if r.strip()] or [""])
    return result


def _combinations(options: list[list[str]], joiner: str = "") -> list[str]:
    """The first MAX_READINGS spellings, varying the earliest ambiguous characters first."""
    combos = itertools.islice(itertools.product(*options), MAX_READINGS)
    return list(dict.fromkeys(joiner.join(parts) for parts in combos))


def pinyin_columns(name: str) -> tuple[str, str]:
    """(full pinyin spellings, initials spellings), each a space-separated list of variants.

    深圳市中兴通讯 → full contains "shenzhenshizhongxingtongxun", initials "szszxtx"; a heteronym
    such as 重 (zhong/chong) yields both spellings so either search finds it.
    """
    readings = [r for r in _readings(name.lower()) if r != [""]]
    # Keep only letters/digits of each reading so that punctuation never breaks a match.
    cleaned = [[re.sub(r"[^0-9a-z]", "", r) for r in options] for options in readings]
    cleaned = [[r for r in options if r] for options in cleaned]
    cleaned = [options for options in cleaned if options]
    full = _combinations(cleaned)
    initials = _combinations([list(dict.fromkeys(r[0] for r in options)) for options in cleaned])
    return " ".join(full), " ".join(initials)


def name_grams(name: str) -> str:
    """The name's distinct 1- and 2-character substrings (lower-cased), space separated.

    A GIN index over these answers 1–2 character Chinese queries (中兴) in a millisecond, where
    trigram indexes cannot help (DESIGN.md).
    """
    text = "".join(ch for ch in unicodedata.normalize("NFKC", name).lower() if not ch.isspace())
    grams = dict.fromkeys(text[i : i + n] for n in (1, 2) for i in range(len(text) - n + 1))
    return " ".join(grams)


# ---------------------------------------------------------------- 统一社会信用代码 (GB 32100-2015)

CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_check_char(first17: str) -> str:
    total = sum(CREDIT_CODE_CHARS.index(c) * w for c, w in zip(first17, CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_CHARS[(31 - total % 31) % 31]


def is_valid_credit_code(code: str) -> bool:
    code = (code or "").strip().upper()
    if len(code) != 18 or any(c not in CREDIT_CODE_CHARS for c in code):
        return False
    return credit_code_check_char(code[:17]) == code[17]
