"""The customer list page: scope tabs, quick search, advanced filters, sort, paging, query bounds."""

import pytest
from django.utils import timezone

from crm.customers import services
from crm.customers.models import Customer, DictionaryItem


@pytest.fixture
def many(users):
    status = DictionaryItem.objects.filter(kind="status").first()
    level = DictionaryItem.objects.filter(kind="value_level").first()
    stage = DictionaryItem.objects.filter(kind="stage").first()
    for i in range(55):
        services.customer_create(
            actor=users["sales1"],
            values={"name": f"客户{i:02d}", "status": status, "value_level": level, "stage": stage},
            contacts=[{"name": f"联系人{i}"}],
        )
    return users


def rows(response) -> int:
    return response.content.decode().count('data-testid="customer-row"')


def test_list_issues_a_bounded_number_of_queries_for_many_rows(client, many, django_assert_max_num_queries):
    for username in ("sales1", "manager", "admin"):
        client.force_login(many[username])
        with django_assert_max_num_queries(15):
            response = client.get("/customers/")
        assert response.status_code == 200 and rows(response) == 20, username
        status_pk = DictionaryItem.objects.filter(kind="status").first().pk
        with django_assert_max_num_queries(15):
            response = client.get(f"/customers/?f=status&op=is&v={status_pk}&f=name&op=contains&v=客户")
        assert rows(response) == 20


def test_keyset_paging_walks_every_row_once(client, many):
    client.force_login(many["sales1"])
    seen = []
    url = "/customers/?sort=name"
    for _page in range(5):
        response = client.get(url)
        page = response.content.decode()
        seen += [c.name for c in response.context["rows"]]
        cursor = response.context.get("next_cursor")
        if not cursor:
            break
        assert "下一页" in page
        url = f"/customers/?sort=name&cursor={cursor}"
    assert seen == sorted(f"客户{i:02d}" for i in range(55))


def test_nullable_sort_falls_back_to_page_numbers(client, many):
    client.force_login(many["sales1"])
    first = client.get("/customers/?sort=-next_contact_at")
    second = client.get("/customers/?sort=-next_contact_at&page=3")
    assert rows(first) == 20 and rows(second) == 15 and first.context["next_page"] == 2


def test_count_is_capped(client, many, monkeypatch):
    from crm.customers import selectors

    original = selectors.capped_count
    monkeypatch.setattr(selectors, "capped_count", lambda qs, cap=1000: original(qs, cap=50))
    client.force_login(many["sales1"])
    assert "50+ 个客户" in client.get("/customers/").content.decode()


@pytest.mark.parametrize("query", ["zx", "zhongxing", "中兴"])
def test_quick_search_finds_by_pinyin_and_substring(client, users, query):
    services.customer_create(actor=users["sales1"], values={"name": "深圳市中兴通讯股份有限公司"})
    services.customer_create(actor=users["sales1"], values={"name": "华为技术有限公司"})
    client.force_login(users["sales1"])
    page = client.get("/customers/", {"q": query}).content.decode()
    assert "深圳市中兴通讯股份有限公司" in page and "华为技术有限公司" not in page


@pytest.mark.parametrize(
    "params",
    [
        {"f": "password", "op": "equals", "v": "x"},
        {"f": "name", "op": "regex", "v": "x"},
        {"f": "created_at", "op": "after", "v": "not-a-date"},
        {"sort": "owner__password"},
    ],
)
def test_bad_filter_answers_400_with_a_message(client, users, params):
    services.customer_create(actor=users["sales1"], values={"name": "甲公司"})
    client.force_login(users["sales1"])
    response = client.get("/customers/", params)
    assert response.status_code == 400
    page = response.content.decode()
    assert 'data-testid="filter-error"' in page and "筛选条件" in page
    assert "甲公司" not in page


def test_advanced_filter_combines_conditions(client, users):
    status = DictionaryItem.objects.get(kind="status", name="正式客户")
    services.customer_create(actor=users["sales1"], values={"name": "甲公司", "status": status})
    services.customer_create(actor=users["sales1"], values={"name": "乙公司", "status": status})
    services.customer_create(actor=users["sales1"], values={"name": "甲工厂"})
    client.force_login(users["sales1"])
    response = client.get(f"/customers/?f=status&op=is&v={status.pk}&f=name&op=startswith&v=甲&f=&op=&v=")
    assert [c.name for c in response.context["rows"]] == ["甲公司"]
    assert 'data-testid="filter-row"' in response.content.decode()


def test_filter_row_offers_the_fields_operators_and_values(client, users):
    client.force_login(users["sales1"])
    page = client.get("/customers/filter-row/?f=status").content.decode()
    assert "正式客户" in page and 'value="is"' in page and 'value="contains"' not in page
    assert client.get("/customers/filter-row/?f=password").status_code == 400


def test_scope_tabs(client, users):
    mine = services.customer_create(actor=users["sales1"], values={"name": "我的客户甲"})
    other = services.customer_create(actor=users["sales2"], values={"name": "同事的客户乙"})
    services.customers_share(
        actor=users["sales2"], customers=Customer.objects.filter(pk=other.pk), users=[users["sales1"]]
    )
    client.force_login(users["sales1"])

    def names(scope):
        return {c.name for c in client.get(f"/customers/?scope={scope}").context["rows"]}

    assert names("all") == {"我的客户甲", "同事的客户乙"}
    assert names("mine") == {"我的客户甲"}
    assert names("shared_with_me") == {"同事的客户乙"}
    assert names("shared_by_me") == set()
    client.force_login(users["sales2"])
    assert names("shared_by_me") == {"同事的客户乙"}
    assert mine.pk not in {c.pk for c in client.get("/customers/").context["rows"]}


def test_script_in_a_name_is_shown_escaped(client, users):
    customer = services.customer_create(
        actor=users["sales1"], values={"name": "<script>alert(1)</script>公司"}
    )
    client.force_login(users["sales1"])
    for url in ("/customers/", f"/customers/{customer.pk}/", "/search/?q=公司"):
        page = client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in page, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;公司" in page, url


def test_global_search_finds_customers_through_the_policy(client, users):
    services.customer_create(actor=users["sales1"], values={"name": "深圳市中兴通讯股份有限公司"})
    client.force_login(users["sales1"])
    assert "深圳市中兴通讯股份有限公司" in client.get("/search/?q=zx").content.decode()
    client.force_login(users["sales2"])
    assert "深圳市中兴通讯股份有限公司" not in client.get("/search/?q=zx").content.decode()


def test_list_shows_the_columns(client, users):
    level = DictionaryItem.objects.get(kind="value_level", name="A 级")
    services.customer_create(
        actor=users["sales1"],
        values={"name": "甲公司", "value_level": level, "next_contact_at": timezone.now()},
    )
    client.force_login(users["sales1"])
    page = client.get("/customers/").content.decode()
    assert "A 级" in page and users["sales1"].display_name in page and "KH" in page


@pytest.mark.parametrize("cursor", ["garbage", "WyIyMDI2LTEzLTQ1VDk5Ojk5IiwgMV0", "WzEsIDJd", "e30"])
def test_a_broken_cursor_shows_the_first_page(client, many, cursor):
    client.force_login(many["sales1"])
    response = client.get("/customers/", {"cursor": cursor})
    assert response.status_code == 200 and rows(response) == 20


def test_sort_links_flip_direction_and_sort_the_rows(client, users):
    for name in ("乙公司", "甲公司", "丙公司"):
        services.customer_create(actor=users["sales1"], values={"name": name})
    client.force_login(users["sales1"])
    ascending = client.get("/customers/?sort=code")
    codes = [c.code for c in ascending.context["rows"]]
    assert codes == sorted(codes)
    header = next(c for c in ascending.context["columns"] if c["key"] == "code")
    assert header["active"] and header["sort"] == "-code"
    assert 'data-sort="code"' in ascending.content.decode()
    descending = client.get("/customers/?sort=-code")
    assert [c.code for c in descending.context["rows"]] == codes[::-1]
