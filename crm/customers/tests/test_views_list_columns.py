"""The column chooser of the customer list (显示列, CUS-2): built-in columns shown or hidden,
remembered in the URL (and so in saved views); the name column always shows; fields hidden by
field permissions are never offered."""

import pytest

from crm.customers import services
from crm.savedviews import services as view_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(users):
    return services.customer_create(actor=users["sales1"], values={"name": "列测试公司"})


def heads(response) -> list[str]:
    return [c["key"] for c in response.context["columns"]]


def test_all_columns_by_default_and_offered_in_the_chooser(client, users, customer):
    client.force_login(users["sales1"])
    response = client.get("/customers/")
    assert heads(response) == [
        "name",
        "code",
        "status",
        "value_level",
        "stage",
        "owner",
        "last_followup_at",
        "next_contact_at",
        "created_at",
    ]
    html = response.content.decode()
    assert 'data-testid="column-chooser"' in html and 'data-testid="column-code"' in html
    assert 'name="cols" value="name"' not in html  # always shown, not a choice


def test_chosen_columns_only(client, users, customer):
    client.force_login(users["sales1"])
    response = client.get("/customers/", {"cc_set": "1", "cols": ["owner", "code", "bogus"]})
    assert heads(response) == ["name", "code", "owner"]
    html = response.content.decode()
    row = html[html.index('data-testid="customer-row"') :]
    row = row[: row.index("</tr>")]
    assert row.count("<td") == 1 + 3  # the tick box, name, code, owner
    assert customer.code in row and users["sales1"].display_name in row
    # Sorting keeps the choice (query string).
    assert "cols=owner" in html.split('data-sort="name"')[0].rsplit("href=", 1)[1]


def test_columns_travel_in_a_saved_view(client, users, customer):
    view = view_services.saved_view_create(
        actor=users["sales1"], list_key="customers", name="简洁", params={"columns": ["owner"]}
    )
    client.force_login(users["sales1"])
    response = client.get(client.get(f"/customers/?view={view.pk}").url)
    assert heads(response) == ["name", "owner"]


def test_hidden_fields_are_never_offered_nor_shown(client, users, customer):
    from crm.customers.tests.test_field_permissions import restrict

    sales1 = restrict(users["sales1"], {"customers.code": "hidden", "customers.status": "hidden"})
    client.force_login(sales1)
    response = client.get("/customers/", {"cc_set": "1", "cols": ["code", "status", "owner"]})
    assert heads(response) == ["name", "owner"]
    html = response.content.decode()
    assert 'data-testid="column-code"' not in html and 'data-testid="column-status"' not in html
    assert customer.code not in html
