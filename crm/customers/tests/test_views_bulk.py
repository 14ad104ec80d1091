"""Bulk transfer, share and delete from the list page: only customers the user may change."""

import pytest

from crm.audit.models import OperationLog
from crm.customers import services
from crm.customers.models import Customer, CustomerAccess


@pytest.fixture
def setup(users):
    mine = [services.customer_create(actor=users["sales1"], values={"name": f"甲{i}"}) for i in range(3)]
    others = [services.customer_create(actor=users["sales2"], values={"name": f"乙{i}"}) for i in range(2)]
    return users, mine, others


def post(client, action, customers, **extra):
    data = {"action": action, "ids": [str(c.pk) for c in customers], "next": "/customers/?scope=mine"}
    data.update(extra)
    return client.post("/customers/bulk/", data)


def test_bulk_transfer_moves_only_customers_in_scope(client, setup, django_assert_max_num_queries):
    users, mine, others = setup
    client.force_login(users["sales1"])
    with django_assert_max_num_queries(25):
        response = post(client, "transfer", mine + others, to_user=users["manager"].pk, keep_team="1")
    assert response.status_code == 302 and response.url == "/customers/?scope=mine"
    assert set(Customer.objects.filter(owner=users["manager"]).values_list("name", flat=True)) == {
        "甲0",
        "甲1",
        "甲2",
    }
    assert Customer.objects.filter(owner=users["sales2"]).count() == 2
    assert OperationLog.objects.filter(action="customer.transferred").count() == 3
    assert CustomerAccess.objects.filter(user=users["sales1"], kind="team").count() == 3


def test_bulk_transfer_to_a_disabled_user_changes_nothing(client, setup):
    users, mine, _others = setup
    users["sales2"].is_active = False
    users["sales2"].save()
    client.force_login(users["sales1"])
    post(client, "transfer", mine, to_user=users["sales2"].pk)
    assert Customer.objects.filter(owner=users["sales1"]).count() == 3


def test_bulk_share_shares_only_customers_in_scope(client, setup):
    users, mine, others = setup
    client.force_login(users["sales1"])
    post(client, "share", mine[:2] + others, users=[users["finance"].pk], can_edit="1")
    shared = CustomerAccess.objects.filter(user=users["finance"], kind="shared", can_edit=True)
    assert {a.customer.name for a in shared} == {"甲0", "甲1"}


def test_bulk_delete_needs_the_permission_and_skips_others(client, setup):
    users, mine, others = setup
    client.force_login(users["sales1"])  # sales may not delete
    assert post(client, "delete", mine).status_code == 403
    assert Customer.objects.filter(deleted_at__isnull=False).count() == 0
    client.force_login(users["manager"])
    post(client, "delete", mine[:1] + others[:1])
    assert set(Customer.objects.filter(deleted_at__isnull=False).values_list("name", flat=True)) == {
        "甲0",
        "乙0",
    }


def test_bulk_delete_by_a_manager_ignores_customers_outside_the_department(client, setup, users):
    _users, mine, _others = setup
    outside = services.customer_create(actor=users["finance"], values={"name": "财务的客户"})
    client.force_login(users["manager"])
    post(client, "delete", [mine[0], outside])
    outside.refresh_from_db()
    assert outside.deleted_at is None


def test_read_only_share_does_not_allow_bulk_transfer(client, setup):
    users, _mine, others = setup
    services.customers_share(
        actor=users["sales2"], customers=Customer.objects.filter(pk=others[0].pk), users=[users["sales1"]]
    )
    client.force_login(users["sales1"])
    post(client, "transfer", others[:1], to_user=users["sales1"].pk)
    others[0].refresh_from_db()
    assert others[0].owner == users["sales2"]


def test_bulk_without_selection_or_with_unknown_action_shows_a_message(client, setup):
    users, _mine, _others = setup
    client.force_login(users["sales1"])
    response = client.post("/customers/bulk/", {"action": "transfer"}, follow=True)
    assert "请先勾选客户" in response.content.decode()
    response = client.post("/customers/bulk/", {"action": "explode", "ids": ["1"]}, follow=True)
    assert "未知的批量操作" in response.content.decode()


def test_next_must_stay_on_this_site(client, setup):
    users, mine, _others = setup
    client.force_login(users["sales1"])
    response = post(client, "share", mine, users=[users["sales2"].pk], next="https://evil.example/")
    assert response.url == "/customers/"
