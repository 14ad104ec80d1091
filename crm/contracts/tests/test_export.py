"""Money reads the same everywhere (the issue's rule): a line of 2.5 × ¥1299 plus 13 % tax is
3669.675 and rounds half up to 3669.68 on the page, in the API, in the print view and in the
exported .xlsx. Export: visible contracts only, logged, needs contracts.export."""

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from crm.audit.models import OperationLog

pytestmark = pytest.mark.django_db


@pytest.fixture
def contract(catalog, make_contract):
    return make_contract(
        lines=[
            {"product": catalog["pen"].pk, "quantity": "3", "discount_percent": "5"},
            {"product": catalog["lock"].pk, "quantity": "2.5"},
        ],
        tax_percent="13",
    )


def test_the_same_rounded_figures_on_page_api_print_and_export(client, users, contract):
    client.force_login(users["manager"])
    page = client.get(reverse("contracts:detail", args=[contract.pk])).content.decode()
    printed = client.get(reverse("contracts:print", args=[contract.pk])).content.decode()
    api = client.get(f"/api/v1/contracts/{contract.pk}/").json()
    assert "¥3669.68" in page and "¥107.37" in page and "¥3777.05" in page
    assert ">3669.68<" in printed and ">107.37<" in printed and "¥3777.05" in printed
    assert api["total"] == "3777.05"
    assert sorted(line["amount"] for line in api["lines"]) == ["107.37", "3669.68"]
    response = client.post(reverse("contracts:export"), {"ids": [contract.pk]})
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    header, lines = rows[0], rows[1:]
    assert header[0] == "合同编号" and len(lines) == 2
    amount, total = header.index("金额"), header.index("合同金额")
    assert sorted(Decimal(str(row[amount])) for row in lines) == [Decimal("107.37"), Decimal("3669.68")]
    assert {Decimal(str(row[total])) for row in lines} == {Decimal("3777.05")}
    assert OperationLog.objects.get(action="contract.exported").changes == {"count": [None, 1]}


def test_export_needs_permission_and_only_sees_the_scope(client, users, contract, make_contract, customers):
    client.force_login(users["sales1"])  # sales may not export contracts
    assert client.post(reverse("contracts:export"), {"ids": [contract.pk]}).status_code == 403
    other = make_contract(actor=users["sales2"], customer=customers["other"])
    from crm.accounts.models import Role

    role = Role.objects.create(
        code="exporter", name="导出员", data_scope="self", permissions=["contracts.view", "contracts.export"]
    )
    users["norole"].roles.set([role])
    client.force_login(users["norole"])
    response = client.post(reverse("contracts:export"), {"ids": [contract.pk, other.pk]})
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert len(rows) == 1  # the header only: neither contract is in this user's scope
