"""/api/v1/contacts/: contacts of the customers the caller may see; one primary contact each."""

import pytest

from crm.api.tests import clear_throttle, errors_text, token_client
from crm.audit.models import OperationLog
from crm.customers import services
from crm.customers.models import Contact, Customer

pytestmark = pytest.mark.django_db

URL = "/api/v1/contacts/"


@pytest.fixture(autouse=True)
def _fresh_throttle():
    clear_throttle()


def make(user, name="甲公司", contacts=()):
    return services.customer_create(actor=user, values={"name": name}, contacts=contacts)


def ids(response):
    return [row["id"] for row in response.json()["results"]]


def primaries(customer):
    return list(Contact.objects.filter(customer=customer, is_primary=True).values_list("name", flat=True))


def test_lists_only_contacts_of_visible_customers(users):
    mine = make(users["sales1"], "甲", contacts=[{"name": "张三"}, {"name": "李四"}])
    theirs = make(users["sales2"], "乙", contacts=[{"name": "王五"}])

    sales1 = token_client(users["sales1"]).get(URL)
    manager = token_client(users["manager"]).get(URL, {"customer": theirs.pk})

    assert [row["name"] for row in sales1.json()["results"]] == ["张三", "李四"]
    assert sales1.json()["results"][0]["customer_name"] == "甲"
    assert sales1.json()["results"][0]["customer"] == mine.pk
    assert [row["name"] for row in manager.json()["results"]] == ["王五"]
    other = theirs.contacts.get()
    assert token_client(users["sales1"]).get(f"{URL}{other.pk}/").status_code == 404


def test_customer_filter_must_be_a_number(users):
    response = token_client(users["sales1"]).get(URL, {"customer": "abc"})

    assert response.status_code == 400
    assert "整数" in errors_text(response)


def test_first_contact_becomes_primary_and_a_new_primary_replaces_the_old(users):
    customer = make(users["sales1"])
    client = token_client(users["sales1"])

    first = client.post(URL, {"customer": customer.pk, "name": "张三"}, format="json")
    second = client.post(URL, {"customer": customer.pk, "name": "李四"}, format="json")
    third = client.post(URL, {"customer": customer.pk, "name": "王五", "is_primary": True}, format="json")

    assert first.status_code == second.status_code == third.status_code == 201
    assert first.json()["is_primary"] is True and second.json()["is_primary"] is False
    assert primaries(customer) == ["王五"]
    patched = client.patch(f"{URL}{second.json()['id']}/", {"is_primary": True}, format="json")
    assert patched.status_code == 200 and patched.json()["is_primary"] is True
    assert primaries(customer) == ["李四"]
    assert OperationLog.objects.filter(action="contact.created").count() == 3


def test_primary_contact_cannot_simply_be_unset(users):
    customer = make(users["sales1"], contacts=[{"name": "张三"}])
    contact = customer.contacts.get()

    response = token_client(users["sales1"]).patch(
        f"{URL}{contact.pk}/", {"is_primary": False}, format="json"
    )

    assert response.status_code == 400
    assert "首要联系人" in errors_text(response)
    assert primaries(customer) == ["张三"]


def test_deleting_the_primary_contact_promotes_the_next(users):
    customer = make(users["sales1"], contacts=[{"name": "张三"}, {"name": "李四"}])
    first = customer.contacts.get(name="张三")

    # 销售 may not delete contacts (no contacts.delete); their manager may.
    assert token_client(users["sales1"]).delete(f"{URL}{first.pk}/").status_code == 403
    response = token_client(users["manager"]).delete(f"{URL}{first.pk}/")

    assert response.status_code == 204
    assert primaries(customer) == ["李四"]
    assert OperationLog.objects.filter(action="contact.deleted", target_id=str(first.pk)).exists()


def test_contact_of_an_invisible_customer_cannot_be_created(users):
    theirs = make(users["sales2"], "乙")

    response = token_client(users["sales1"]).post(URL, {"customer": theirs.pk, "name": "张三"}, format="json")

    assert response.status_code == 400
    assert "customer" in response.json()
    assert not Contact.objects.exists()


def test_read_only_share_may_see_but_not_change_contacts(users):
    customer = make(users["sales1"], contacts=[{"name": "张三"}])
    services.customers_share(
        actor=users["sales1"], customers=Customer.objects.filter(pk=customer.pk), users=[users["sales2"]]
    )
    client = token_client(users["sales2"])
    contact = customer.contacts.get()

    listed = client.get(URL, {"customer": customer.pk})
    created = client.post(URL, {"customer": customer.pk, "name": "李四"}, format="json")
    patched = client.patch(f"{URL}{contact.pk}/", {"name": "张三丰"}, format="json")

    assert ids(listed) == [contact.pk]
    assert created.status_code == 403 and patched.status_code == 403
    assert "没有修改它的联系人的权限" in errors_text(patched)
    assert list(customer.contacts.values_list("name", flat=True)) == ["张三"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "张三", "password": "x"}, "password"),
        ({"name": "张三", "mobile": "123"}, "mobile"),
        ({"name": "张三", "email": "not-an-email"}, "email"),
        ({"name": "张" * 65}, "name"),
        ({"name": "张三", "birthday": "2026-02-31"}, "birthday"),
    ],
)
def test_bad_contact_input_answers_400_and_changes_nothing(users, payload, field):
    customer = make(users["sales1"])

    response = token_client(users["sales1"]).post(URL, {"customer": customer.pk, **payload}, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Contact.objects.exists()


def test_a_contact_stays_with_its_customer(users):
    customer = make(users["sales1"], contacts=[{"name": "张三"}])
    other = make(users["sales1"], "乙")
    contact = customer.contacts.get()

    response = token_client(users["sales1"]).patch(
        f"{URL}{contact.pk}/", {"customer": other.pk}, format="json"
    )

    assert response.status_code == 400
    assert "未知字段" in errors_text(response)
    contact.refresh_from_db()
    assert contact.customer == customer


def test_contact_list_queries_do_not_grow_with_rows(users, django_assert_max_num_queries):
    for i in range(20):
        make(
            users["sales1"], f"客户{i}", contacts=[{"name": f"甲{i}"}, {"name": f"乙{i}"}, {"name": f"丙{i}"}]
        )
    for viewer in ("admin", "manager", "sales1"):
        with django_assert_max_num_queries(15):
            response = token_client(users[viewer]).get(URL, {"page_size": 200})
        assert len(response.json()["results"]) == 60


def test_ids_too_large_for_the_database_are_not_500(users):
    client = token_client(users["manager"])

    assert client.get(f"{URL}99999999999999999999/").status_code == 404
    assert client.get(URL, {"customer": "99999999999999999999"}).status_code == 400
    created = client.post(URL, {"customer": 99999999999999999999, "name": "张三"}, format="json")
    assert created.status_code == 400
