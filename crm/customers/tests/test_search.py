"""Quick search over customers (crm/customers/search.py), on SQLite and on PostgreSQL.

On PostgreSQL the search is built from index-friendly conditions; the last tests check that the
planner can answer every branch from an index (no sequential scan), which is what keeps the search
fast at a million customers (bench/customers.py measures it).
"""

import pytest
from django.db import connection

from crm.customers import selectors, services
from crm.customers.models import Customer
from crm.customers.search import _may_occur_in_pinyin, normalize, query_grams, search_q

NAMES = [
    "深圳市中兴通讯股份有限公司",
    "华为技术有限公司",
    "兴中兴业有限公司",
    "朝阳科技有限公司",
    "乐华电器有限公司",
    "TCL科技集团股份有限公司",
    "Apple Computer 贸易（上海）有限公司",
]

on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL indexes only")


@pytest.fixture
def customers(users):
    return {name: services.customer_create(actor=users["sales1"], values={"name": name}) for name in NAMES}


def found(user, query: str) -> set[str]:
    return {c.name for c in selectors.customer_list(user=user, query=query)}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("讯", {"深圳市中兴通讯股份有限公司"}),
        ("朝", {"朝阳科技有限公司"}),
        ("中兴", {"深圳市中兴通讯股份有限公司", "兴中兴业有限公司"}),
        ("科技", {"朝阳科技有限公司", "TCL科技集团股份有限公司"}),
        (" 华为 ", {"华为技术有限公司"}),
    ],
)
def test_one_and_two_character_chinese_queries_find_the_names_containing_them(
    users, customers, query, expected
):
    assert found(users["sales1"], query) == expected


def test_a_long_chinese_query_finds_only_names_containing_the_whole_substring(users, customers):
    assert found(users["sales1"], "中兴通讯") == {"深圳市中兴通讯股份有限公司"}
    # 兴中兴业 holds both 2-grams of 中兴中 (中兴, 兴中) but not the substring: the recheck matters.
    assert found(users["sales1"], "兴中兴") == {"兴中兴业有限公司"}
    assert found(users["sales1"], "中兴中") == set()
    assert found(users["sales1"], "中兴通信") == set()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("zhongxing", {"深圳市中兴通讯股份有限公司", "兴中兴业有限公司"}),
        ("zxtx", {"深圳市中兴通讯股份有限公司"}),
        ("ZXTX", {"深圳市中兴通讯股份有限公司"}),
        ("szs", {"深圳市中兴通讯股份有限公司"}),
        ("huawei", {"华为技术有限公司"}),
        ("gx", {"深圳市中兴通讯股份有限公司", "兴中兴业有限公司"}),  # zhon|g|x|ing, across syllables
        ("hwjs", {"华为技术有限公司"}),
    ],
)
def test_pinyin_full_and_initials_find_the_chinese_name(users, customers, query, expected):
    assert found(users["sales1"], query) == expected


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("zhaoyang", "朝阳科技有限公司"),
        ("chaoyang", "朝阳科技有限公司"),
        ("cykj", "朝阳科技有限公司"),
        ("zykj", "朝阳科技有限公司"),
        ("lehua", "乐华电器有限公司"),
        ("yuehua", "乐华电器有限公司"),
    ],
)
def test_every_reading_of_a_heteronym_finds_the_name(users, customers, query, name):
    assert found(users["sales1"], query) == {name}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("tcl", {"TCL科技集团股份有限公司"}),
        ("TCL科技", {"TCL科技集团股份有限公司"}),
        ("tc", {"TCL科技集团股份有限公司"}),
        ("apple", {"Apple Computer 贸易（上海）有限公司"}),
        ("Computer 贸易", {"Apple Computer 贸易（上海）有限公司"}),
        ("（上海）", {"Apple Computer 贸易（上海）有限公司"}),
    ],
)
def test_latin_and_mixed_names_are_found_by_their_letters(users, customers, query, expected):
    assert found(users["sales1"], query) == expected


def test_code_keyword_and_phone_still_find_the_customer(users, customers):
    zte = customers["深圳市中兴通讯股份有限公司"]
    services.customer_update(
        actor=users["sales1"],
        customer=zte,
        values={"keyword": "ZTE", "mobile": "13912345678", "phone": "0755-26770000"},
    )
    assert found(users["sales1"], zte.code) == {zte.name}
    assert found(users["sales1"], zte.code.lower()) == {zte.name}
    assert found(users["sales1"], "zte") == {zte.name}
    assert found(users["sales1"], "1391234") == {zte.name}
    assert found(users["sales1"], "0755-2677") == {zte.name}
    assert found(users["sales1"], "不存在的公司") == set()


def test_a_blank_query_does_not_narrow_the_list(users, customers):
    assert search_q("   ") == search_q("")
    assert len(found(users["sales1"], "  ")) == len(NAMES)


def test_search_never_reaches_beyond_the_users_data_scope(users, customers):
    services.customer_create(actor=users["sales2"], values={"name": "杭州中兴电子有限公司"})
    assert found(users["sales1"], "中兴") == {"深圳市中兴通讯股份有限公司", "兴中兴业有限公司"}
    assert found(users["sales2"], "中兴") == {"杭州中兴电子有限公司"}
    assert found(users["sales2"], "zxtx") == set()
    assert found(users["sales2"], customers["华为技术有限公司"].code) == set()
    assert found(users["manager"], "中兴") == {
        "深圳市中兴通讯股份有限公司",
        "兴中兴业有限公司",
        "杭州中兴电子有限公司",
    }
    assert found(users["norole"], "中兴") == set()


def test_search_page_is_two_queries(users, customers, django_assert_max_num_queries):
    """One query reads the scope's owner ids and the granted customer ids, one reads the page."""
    user = users["sales1"]
    selectors.customer_list(user=user, query="中兴").count()  # the user's roles are read once, cached
    with django_assert_max_num_queries(2):
        rows = list(selectors.customer_list_rows(selectors.customer_list(user=user, query="中兴"))[:20])
    assert len(rows) == 2


def test_letter_pairs_that_cannot_occur_in_pinyin_skip_the_full_pinyin_column():
    assert _may_occur_in_pinyin("zh") and _may_occur_in_pinyin("gx") and _may_occur_in_pinyin("xi")
    assert not _may_occur_in_pinyin("zx") and not _may_occur_in_pinyin("tc")
    assert _may_occur_in_pinyin("zxt")


def test_query_grams_match_what_the_name_grams_column_holds():
    assert normalize(" ＴＣＬ 科技 ") == "tcl科技"
    assert query_grams("中兴") == ["中兴"]
    assert query_grams("中") == ["中"]
    assert query_grams("中兴通讯") == ["中兴", "兴通", "通讯"]


# ---------------------------------------------------------------- PostgreSQL: indexes, not scans


def plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@on_postgresql
@pytest.mark.parametrize(
    ("query", "indexes"),
    [
        ("中兴", ["customer_grams_gin"]),
        ("中", ["customer_grams_gin"]),
        ("中兴通讯", ["customer_grams_gin|customer_name_trgm"]),  # the planner picks either
        ("zhongxing", ["customer_pinyin_trgm", "customer_initials_trgm", "customer_name_trgm"]),
        ("szs", ["customer_initials_trgm"]),
        ("1391234", ["customer_mobile_prefix", "customer_phone_prefix"]),
        ("ZTE", ["customer_keyword_trgm", "customers_customer_code"]),
        ("zt", ["customer_keyword_prefix", "customer_grams_gin"]),
    ],
)
def test_every_branch_of_the_search_is_answered_by_an_index(db, query, indexes):
    text = plan(Customer.objects.filter(search_q(query)))
    if query != "zt":  # 1–2 Latin letters: pinyin/initials substrings have no trigram to use
        assert "Seq Scan" not in text, text
    for alternatives in indexes:
        assert any(index in text for index in alternatives.split("|")), text
