"""The 导出 menu on list pages and 导出选中 in bulk bars: shown only with the export permission."""

import pytest

pytestmark = pytest.mark.django_db

LIST_PAGES = [
    ("/customers/", "customers"),
    ("/leads/", "leads"),
    ("/opportunities/list/", "opportunities"),
    ("/quotes/", "quotes"),
    ("/contracts/", "contracts"),
    ("/receivables/", "receivables"),
    ("/receivables/plans/", "payment_plans"),
    ("/invoices/", "invoices"),
    ("/products/", "products"),
    ("/org/users/", "users"),
]


@pytest.mark.parametrize(("url", "key"), LIST_PAGES)
def test_every_list_page_offers_the_export_menu_to_an_admin(admin_client, url, key):
    page = admin_client.get(url + "?q=abc&cursor=zzz").content.decode()
    assert 'data-testid="export-menu"' in page, url
    assert f'name="list" value="{key}"' in page
    assert 'name="params" value="q=abc"' in page  # the search, without the paging cursor


def test_menu_is_hidden_without_the_export_permission(client, users):
    from crm.accounts.models import Role
    from crm.accounts.tests.factories import RoleFactory

    sales = Role.objects.get(code="sales")
    permissions = [p for p in sales.permissions if p != "customers.export"]
    users["sales1"].roles.set([RoleFactory(data_scope=sales.data_scope, permissions=permissions)])
    client.force_login(users["sales1"])
    page = client.get("/customers/").content.decode()
    assert 'data-testid="export-menu"' not in page


def test_customer_bulk_bar_offers_export_selected(client, users, make_customer):
    make_customer()
    client.force_login(users["sales1"])
    page = client.get("/customers/?q=导出").content.decode()
    assert 'data-testid="export-selected-xlsx"' in page
    assert "list=customers&amp;scope=selected" in page


def test_customer_page_exports_its_contacts(client, users, make_customer):
    from crm.customers import services as customer_services
    from crm.exports.tests.conftest import content_of, csv_rows

    customer = make_customer(name="联系人导出客户")
    customer_services.contact_create(actor=users["sales1"], customer=customer, values={"name": "王五"})
    other = make_customer(name="另一个客户")
    customer_services.contact_create(actor=users["sales1"], customer=other, values={"name": "赵六"})
    client.force_login(users["sales1"])
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert 'name="list" value="contacts"' in page and f'name="params" value="customer={customer.pk}"' in page
    response = client.post(
        "/exports/new/", {"list": "contacts", "format": "csv", "params": f"customer={customer.pk}"}
    )
    rows = csv_rows(content_of(response))
    assert [r[1] for r in rows[1:]] == ["王五"]
