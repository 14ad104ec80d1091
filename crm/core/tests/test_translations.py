"""The translation catalogues are complete, keep their placeholders, are compiled, and are used.

Source strings are Simplified Chinese; crm/locale/zh_Hans is the identity catalogue and
crm/locale/en the English one. bin/messages extracts new strings and compiles both.
"""

import gettext
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings

LOCALE_DIR = Path(settings.BASE_DIR) / "crm" / "locale"
CATALOGUES = {code: LOCALE_DIR / code / "LC_MESSAGES" / "django.po" for code in ("zh_Hans", "en")}
FIX = "run bin/messages, then translate the empty entries of crm/locale/en/LC_MESSAGES/django.po"

_KEYWORD = re.compile(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?)\s+"(.*)"$')
_STRING = re.compile(r'^"(.*)"$')
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v", '"': '"', "\\": "\\"}
# %(name)s and %(count)d, plain %s / %d, and {name} / {{ name }} (never %%).
_PLACEHOLDER = re.compile(
    r"%\((?P<named>\w+)\)[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]"
    r"|(?P<positional>%[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa])"
    r"|(?P<brace>\{\{?\s*\w+\s*\}?\})"
)


@dataclass
class Entry:
    line: int
    flags: set[str] = field(default_factory=set)
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def msgid(self) -> str:
        return self.fields.get("msgid", "")

    @property
    def msgstrs(self) -> dict[str, str]:
        return {k: v for k, v in self.fields.items() if k.startswith("msgstr")}

    @property
    def label(self) -> str:
        context = self.fields.get("msgctxt")
        return f"{self.msgid!r}" + (f" (context {context!r})" if context is not None else "")


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m[1], m[0]), text)


def parse_po(path: Path) -> list[Entry]:
    """Every entry of a PO file, the header included (msgid ""); obsolete (#~) entries are skipped."""
    entries: list[Entry] = []
    entry, key = None, None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            entry, key = None, None
            continue
        if entry is None:
            entry = Entry(line=number)
            entries.append(entry)
        if line.startswith("#,"):
            entry.flags.update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif m := _KEYWORD.match(line):
            key = m[1]
            entry.fields[key] = _unescape(m[2])
        elif (m := _STRING.match(line)) and key is not None:
            entry.fields[key] += _unescape(m[1])
        else:
            raise AssertionError(f"{path}:{number}: cannot parse {raw!r}")
    return [e for e in entries if "msgid" in e.fields]


def placeholders(text: str) -> tuple[frozenset[str], tuple[str, ...]]:
    """Named placeholders (as a set) and positional ones (in order: their order matters)."""
    text = text.replace("%%", "")
    named, positional = set(), []
    for m in _PLACEHOLDER.finditer(text):
        if m["positional"]:
            positional.append(m["positional"])
        else:
            named.add(m[0] if m["brace"] is None else re.sub(r"\s+", "", m[0]))
    return frozenset(named), tuple(positional)


@pytest.fixture(scope="module", params=sorted(CATALOGUES))
def catalogue(request) -> tuple[str, list[Entry]]:
    path = CATALOGUES[request.param]
    assert path.exists(), f"{path} is missing: {FIX}"
    return request.param, parse_po(path)


def test_catalogue_is_complete_and_has_no_fuzzy_entries(catalogue):
    code, entries = catalogue
    header = [e for e in entries if e.msgid == "" and "msgctxt" not in e.fields]
    assert len(header) == 1, f"{code}: the PO header is missing"
    empty = [e.label for e in entries if e not in header and any(v == "" for v in e.msgstrs.values())]
    fuzzy = [e.label for e in entries if "fuzzy" in e.flags]
    assert not empty, f"{code}: {len(empty)} untranslated entries ({FIX}):\n" + "\n".join(empty)
    assert not fuzzy, f"{code}: {len(fuzzy)} fuzzy entries (check and clear the flag):\n" + "\n".join(fuzzy)


def test_catalogue_header_names_language_and_plural_forms(catalogue):
    code, entries = catalogue
    header = next(e for e in entries if e.msgid == "")
    fields = dict(line.split(":", 1) for line in header.fields["msgstr"].splitlines() if ":" in line)
    expected = {"zh_Hans": "nplurals=1; plural=0;", "en": "nplurals=2; plural=(n != 1);"}[code]
    assert fields.get("Language", "").strip() == code
    assert fields.get("Plural-Forms", "").strip() == expected
    assert "charset=UTF-8" in fields.get("Content-Type", "")
    nplurals = 1 if code == "zh_Hans" else 2
    wrong = [e.label for e in entries if "msgid_plural" in e.fields and len(e.msgstrs) != nplurals]
    assert not wrong, f"{code}: plural entries need exactly {nplurals} msgstr[n]:\n" + "\n".join(wrong)


def test_translations_keep_every_placeholder(catalogue):
    code, entries = catalogue
    problems = []
    for entry in entries:
        if entry.msgid == "":
            continue
        for key, text in entry.msgstrs.items():
            source = entry.msgid if key in ("msgstr", "msgstr[0]") else entry.fields["msgid_plural"]
            if text and placeholders(text) != placeholders(source):
                problems.append(f"{entry.label} [{key}] -> {text!r}")
    assert not problems, f"{code}: placeholders differ from the source string:\n" + "\n".join(problems)


def _catalog(mo: Path) -> dict:
    with mo.open("rb") as fp:
        return dict(gettext.GNUTranslations(fp)._catalog)


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext (msgfmt) is not installed")
@pytest.mark.parametrize("code", sorted(CATALOGUES))
def test_compiled_catalogue_matches_its_po(code, tmp_path):
    po = CATALOGUES[code]
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo} is missing: run bin/messages"
    fresh = tmp_path / "django.mo"
    # The same call as "manage.py compilemessages".
    result = subprocess.run(
        ["msgfmt", "--check-format", "-o", str(fresh), str(po)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"msgfmt rejects {po}:\n{result.stderr}"
    compiled, expected = _catalog(mo), _catalog(fresh)
    stale = sorted(
        repr(k) for k in compiled.keys() | expected.keys() if k != "" and compiled.get(k) != expected.get(k)
    )
    assert compiled == expected, f"{mo} is out of date with {po.name}: run bin/messages.\n" + "\n".join(
        stale[:50]
    )


def _get(client, url, language=None):
    if language is None:
        client.cookies.pop(settings.LANGUAGE_COOKIE_NAME, None)
    else:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_pages_render_in_english_with_the_language_cookie(client, users):
    client.force_login(users["admin"])
    home = _get(client, "/", "en")
    assert '<html lang="en">' in home
    assert "Home" in home
    assert "首页" not in home
    roles = _get(client, "/org/roles/", "en")
    assert "Data scope" in roles  # UI label; role names are data and stay as stored
    assert "数据范围" not in roles


def test_pages_render_in_chinese_by_default(client, users):
    client.force_login(users["admin"])
    home = _get(client, "/")
    assert '<html lang="zh-hans">' in home
    assert "首页" in home
    assert ">Home<" not in home
    roles = _get(client, "/org/roles/")
    assert "数据范围" in roles
    assert "Data scope" not in roles
