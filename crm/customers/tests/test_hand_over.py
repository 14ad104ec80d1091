from rest_framework.test import APIClient

from crm.accounts.models import User
from crm.audit.models import OperationLog
from crm.customers import services
from crm.customers.models import Customer


def make_customers(owner, count=3):
    return [services.customer_create(actor=owner, values={"name": f"交接客户{i}"}) for i in range(count)]


def test_disabling_a_user_with_customers_asks_for_a_hand_over(admin_client, users):
    make_customers(users["sales1"])
    response = admin_client.post(f"/org/users/{users['sales1'].pk}/active/", {"active": "0"})
    assert response.status_code == 302 and response.url == f"/org/users/{users['sales1'].pk}/disable/"
    page = admin_client.get(response.url).content.decode()
    assert "该员工还负责 3 个客户" in page
    response = admin_client.post(response.url, {})
    assert response.status_code == 400
    assert "请选择接手的同事或退回的公海" in response.content.decode()
    assert User.objects.get(pk=users["sales1"].pk).is_active


def test_hand_over_to_a_colleague(admin_client, users):
    make_customers(users["sales1"])
    response = admin_client.post(
        f"/org/users/{users['sales1'].pk}/disable/", {"hand_over_to": users["sales2"].pk}
    )
    assert response.status_code == 302
    assert not User.objects.get(pk=users["sales1"].pk).is_active
    assert set(Customer.objects.values_list("owner__username", flat=True)) == {"sales2"}
    assert OperationLog.objects.filter(action="customer.transferred").count() == 3


def test_hand_over_to_the_pool(admin_client, users):
    make_customers(users["sales1"], count=2)
    pool = services.default_pool()
    response = admin_client.post(f"/org/users/{users['sales1'].pk}/disable/", {"pool": pool.pk})
    assert response.status_code == 302
    assert (
        list(Customer.objects.values_list("owner", "pool", "previous_owner__username", "release_reason"))
        == [(None, pool.pk, "sales1", "负责人已停用")] * 2
    )


def test_api_disable_needs_a_hand_over_for_owners(users):
    make_customers(users["sales1"], count=1)
    client = APIClient()
    client.force_authenticate(users["admin"])
    response = client.post(f"/api/v1/users/{users['sales1'].pk}/disable/", {}, format="json")
    assert response.status_code == 400
    assert User.objects.get(pk=users["sales1"].pk).is_active
    response = client.post(
        f"/api/v1/users/{users['sales1'].pk}/disable/", {"hand_over_to": users["sales2"].pk}, format="json"
    )
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert Customer.objects.get().owner == users["sales2"]
