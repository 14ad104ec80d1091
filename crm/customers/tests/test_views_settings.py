"""Recycle bin (restore into a pool, purge) and the admin-kept dictionaries and numbering rule."""

import pytest

from crm.audit.models import OperationLog
from crm.customers import services
from crm.customers.models import Customer, DictionaryItem, NumberingRule, Pool


@pytest.fixture
def binned(users):
    mine = services.customer_create(actor=users["sales1"], values={"name": "甲公司"})
    theirs = services.customer_create(actor=users["finance"], values={"name": "财务的客户"})
    services.customers_delete(
        actor=users["admin"], customers=Customer.objects.filter(pk__in=[mine.pk, theirs.pk])
    )
    return mine, theirs


def test_recycle_bin_shows_what_the_role_may_see(client, users, binned):
    client.force_login(users["admin"])
    page = client.get("/customers/recycle-bin/").content.decode()
    assert "甲公司" in page and "财务的客户" in page
    client.force_login(users["manager"])  # customers.delete, department tree
    page = client.get("/customers/recycle-bin/").content.decode()
    assert "甲公司" in page and "财务的客户" not in page
    assert 'data-testid="restore"' not in page  # needs pool.settings or customers.settings
    client.force_login(users["sales1"])
    assert client.get("/customers/recycle-bin/").status_code == 403


def test_restore_into_a_chosen_pool(client, users, binned):
    mine, _theirs = binned
    pool = Pool.objects.create(name="华南公海")
    client.force_login(users["administrator"])
    response = client.post("/customers/recycle-bin/restore/", {"ids": [mine.pk], "pool": pool.pk})
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.deleted_at is None and mine.pool == pool and mine.owner is None
    assert OperationLog.objects.filter(action="customer.restored", target_id=str(mine.pk)).exists()


def test_manager_cannot_restore_or_purge(client, users, binned):
    mine, _theirs = binned
    client.force_login(users["manager"])
    pool = services.default_pool()
    assert (
        client.post("/customers/recycle-bin/restore/", {"ids": [mine.pk], "pool": pool.pk}).status_code == 403
    )
    assert client.post("/customers/recycle-bin/purge/", {"ids": [mine.pk]}).status_code == 403
    assert Customer.objects.filter(pk=mine.pk, deleted_at__isnull=False).exists()


def test_purge_deletes_only_binned_customers(client, users, binned):
    mine, theirs = binned
    live = services.customer_create(actor=users["sales1"], values={"name": "在用的客户"})
    client.force_login(users["admin"])
    client.post("/customers/recycle-bin/purge/", {"ids": [mine.pk, live.pk]})
    assert not Customer.objects.filter(pk=mine.pk).exists()
    assert Customer.objects.filter(pk__in=[theirs.pk, live.pk]).count() == 2


def test_dictionary_add_rename_and_deactivate(client, users):
    client.force_login(users["administrator"])
    response = client.post("/customers/settings/dictionaries/new/?kind=status", {"name": " 战略客户 "})
    assert response.status_code == 302
    item = DictionaryItem.objects.get(kind="status", name="战略客户")
    assert (
        client.post("/customers/settings/dictionaries/new/?kind=status", {"name": "战略客户"}).status_code
        == 400
    )
    assert client.post("/customers/settings/dictionaries/new/?kind=status", {"name": ""}).status_code == 400
    client.post(f"/customers/settings/dictionaries/{item.pk}/edit/", {"name": "战略伙伴", "sort_order": "9"})
    item.refresh_from_db()
    assert (item.name, item.sort_order) == ("战略伙伴", 9)
    customer = services.customer_create(actor=users["sales1"], values={"name": "甲", "status": item})
    page = client.get("/customers/settings/dictionaries/?kind=status").content.decode()
    assert "战略伙伴" in page
    client.post(f"/customers/settings/dictionaries/{item.pk}/active/", {"active": "0"}, follow=True)
    item.refresh_from_db()
    customer.refresh_from_db()
    assert not item.is_active and customer.status == item  # in use: kept, never deleted
    client.force_login(users["sales1"])
    assert "战略伙伴" not in client.get("/customers/new/").content.decode()
    assert OperationLog.objects.filter(action="dictionary.deactivated").exists()


def test_regions_are_a_two_level_tree(client, users):
    client.force_login(users["admin"])
    guangdong = DictionaryItem.objects.get(kind="region", name="广东省")
    shenzhen = DictionaryItem.objects.get(kind="region", name="深圳市")
    client.post(
        "/customers/settings/dictionaries/new/?kind=region", {"name": "珠海市", "parent": guangdong.pk}
    )
    assert DictionaryItem.objects.get(name="珠海市").parent == guangdong
    response = client.post(
        "/customers/settings/dictionaries/new/?kind=region", {"name": "南山区", "parent": shenzhen.pk}
    )
    assert response.status_code == 400 and not DictionaryItem.objects.filter(name="南山区").exists()
    page = client.get("/customers/settings/dictionaries/?kind=region").content.decode()
    page = page.split('data-testid="dictionary-table"')[1]
    assert page.index("广东省") < page.index("珠海市") < page.index("上海市")
    client.post(f"/customers/settings/dictionaries/{guangdong.pk}/active/", {"active": "0"})
    assert not DictionaryItem.objects.get(name="珠海市").is_active


def test_unknown_dictionary_kind_is_404(client, users):
    client.force_login(users["admin"])
    assert client.get("/customers/settings/dictionaries/?kind=password").status_code == 404


def test_numbering_rule_changes_new_codes(client, users):
    client.force_login(users["admin"])
    response = client.post(
        "/customers/settings/numbering/", {"prefix": "ZX", "date_part": "%Y", "padding": "6"}
    )
    assert response.status_code == 302
    customer = services.customer_create(actor=users["sales1"], values={"name": "甲"})
    assert customer.code.startswith("ZX") and len(customer.code) == 2 + 4 + 6
    bad = client.post("/customers/settings/numbering/", {"prefix": "<b>", "date_part": "%Y", "padding": "6"})
    assert bad.status_code == 400 and "前缀" in bad.content.decode()
    assert NumberingRule.objects.get(key="customer").prefix == "ZX"
    assert (
        client.post(
            "/customers/settings/numbering/", {"prefix": "A", "date_part": "x", "padding": "2"}
        ).status_code
        == 400
    )
