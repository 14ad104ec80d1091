"""Every customer page with every role: the status the role's permissions call for."""

import pytest

from crm.access import policy
from crm.accounts.models import User
from crm.customers import selectors, services
from crm.customers.models import Customer, DictionaryItem

ROLE_USERS = ["admin", "administrator", "manager", "sales1", "sales2", "finance", "service", "norole"]


@pytest.fixture
def customer(users):
    return services.customer_create(
        actor=users["sales1"], values={"name": "深圳市中兴通讯股份有限公司"}, contacts=[{"name": "张三"}]
    )


def pages(customer):
    contact = customer.contacts.get()
    status = DictionaryItem.objects.filter(kind="status").first()
    return [
        # (url, permission, needs customer write access)
        ("/customers/", "customers.view", False),
        ("/customers/?scope=mine&sort=name", "customers.view", False),
        ("/customers/filter-row/?f=status", "customers.view", False),
        ("/customers/new/", "customers.create", False),
        (f"/customers/{customer.pk}/", "customers.view", None),
        (f"/customers/{customer.pk}/edit/", "customers.edit", True),
        (f"/customers/{customer.pk}/contacts/new/", "contacts.create", True),
        (f"/customers/{customer.pk}/contacts/{contact.pk}/edit/", "contacts.edit", True),
        ("/customers/recycle-bin/", ("customers.delete", "customers.settings"), False),
        ("/customers/settings/dictionaries/", "customers.settings", False),
        ("/customers/settings/dictionaries/?kind=region", "customers.settings", False),
        ("/customers/settings/dictionaries/new/?kind=status", "customers.settings", False),
        (f"/customers/settings/dictionaries/{status.pk}/edit/", "customers.settings", False),
        ("/customers/settings/numbering/", "customers.settings", False),
    ]


def _expected(user, customer, permission, write) -> int:
    permissions = permission if isinstance(permission, tuple) else (permission,)
    if not any(policy.can(user, p) for p in permissions):
        return 403
    visible = Customer.objects.filter(pk=customer.pk, owner__in=policy.visible_users(user)).exists()
    if write is None:
        return 200 if visible else 404
    if write:
        return 200 if visible and selectors.can_edit_customer(user, customer) else 404
    return 200


@pytest.mark.parametrize("username", ROLE_USERS)
def test_every_customer_page_answers_as_the_role_allows(client, users, customer, username):
    client.force_login(users[username])
    fresh = User.objects.get(pk=users[username].pk)
    for url, permission, write in pages(customer):
        expected = _expected(fresh, customer, permission, write)
        assert client.get(url).status_code == expected, (username, url)


def test_another_salespersons_customer_is_404_but_the_manager_opens_it(client, users, customer):
    client.force_login(users["sales2"])
    assert client.get(f"/customers/{customer.pk}/").status_code == 404
    assert client.get(f"/customers/{customer.pk}/edit/").status_code == 404
    assert client.post(f"/customers/{customer.pk}/delete/").status_code in (403, 404)
    client.force_login(users["manager"])
    page = client.get(f"/customers/{customer.pk}/")
    assert page.status_code == 200 and "深圳市中兴通讯股份有限公司" in page.content.decode()


def test_a_read_only_share_opens_the_detail_but_not_the_edit_page(client, users, customer):
    services.customers_share(
        actor=users["sales1"], customers=Customer.objects.filter(pk=customer.pk), users=[users["sales2"]]
    )
    client.force_login(users["sales2"])
    page = client.get(f"/customers/{customer.pk}/")
    assert page.status_code == 200
    assert 'data-testid="edit-customer"' not in page.content.decode()
    assert client.get(f"/customers/{customer.pk}/edit/").status_code == 404
    assert client.get(f"/customers/{customer.pk}/contacts/new/").status_code == 404


def test_missing_customer_is_404(client, users):
    client.force_login(users["admin"])
    assert client.get("/customers/999999/").status_code == 404


def test_anonymous_is_sent_to_login(client, db):
    response = client.get("/customers/")
    assert response.status_code == 302 and response.url.startswith("/login/")


def test_navigation_lists_the_customer_pages(client, users):
    client.force_login(users["admin"])
    page = client.get("/").content.decode()
    for key in ("customers", "customer_recycle_bin", "customer_dictionaries"):
        assert f'data-nav="{key}"' in page
    client.force_login(users["sales1"])
    page = client.get("/customers/").content.decode()
    assert 'data-nav="customers"' in page and 'data-nav="customer_dictionaries"' not in page
