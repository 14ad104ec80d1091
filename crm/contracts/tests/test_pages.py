"""Contract pages: list, detail (bounded queries whatever the line count), form, actions, print,
attachments, settings, the customer card and 转为合同 on the quote page."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from crm.contracts import services
from crm.contracts.models import Contract, ContractSettings
from crm.quotes import services as quote_services
from crm.quotes.models import Quote

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


def test_list_shows_own_contracts_with_bounded_queries(
    client, users, make_contract, customers, django_assert_max_num_queries
):
    for _ in range(3):
        make_contract()
    other = make_contract(actor=users["sales2"], customer=customers["other"])
    login(client, users["sales1"])
    with django_assert_max_num_queries(14):
        response = client.get(reverse("contracts:list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('data-testid="contract-row"') == 3
    assert other.code not in html
    for _ in range(10):
        make_contract()
    with django_assert_max_num_queries(14):
        response = client.get(reverse("contracts:list"), {"status": "draft", "q": "年度"})
    assert response.content.decode().count('data-testid="contract-row"') == 13


def test_permissions_404_outside_scope_403_without_permission(client, users, make_contract):
    contract = make_contract()
    login(client, users["sales2"])
    for name in ("contracts:detail", "contracts:print", "contracts:edit"):
        assert client.get(reverse(name, args=[contract.pk])).status_code == 404
    assert (
        client.post(reverse("contracts:action", args=[contract.pk]), {"action": "submit"}).status_code == 404
    )
    login(client, users["norole"])
    assert client.get(reverse("contracts:list")).status_code == 403
    assert client.get(reverse("contracts:detail", args=[contract.pk])).status_code == 403
    login(client, users["sales1"])
    assert client.get(reverse("contracts:settings")).status_code == 403


def test_detail_queries_do_not_grow_with_lines(
    client, users, catalog, flows, make_contract, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    small = make_contract(lines=[{"product": catalog["lock"].pk, "quantity": 1}])
    big = make_contract(
        lines=[{"product": catalog[k].pk, "quantity": n + 1} for n in range(15) for k in ("lock", "pen")]
    )
    services.contract_submit(actor=users["sales1"], contract=small)
    services.contract_submit(actor=users["sales1"], contract=big)
    login(client, users["sales1"])
    counts = []
    for contract in (small, big):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse("contracts:detail", args=[contract.pk]))
        assert response.status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
    assert counts[1] <= 22, counts
    html = response.content.decode()
    assert html.count('data-testid="contract-line-row"') == 30
    assert 'data-testid="approval-status-card"' in html
    assert 'data-testid="contract-withdraw"' in html


def test_page_api_and_print_show_the_same_rounded_figures(client, users, catalog, make_contract):
    contract = make_contract(
        lines=[{"product": catalog["pen"].pk, "quantity": "3", "discount_percent": "5"}], tax_percent="13"
    )
    assert contract.total == Decimal("107.37")
    login(client, users["sales1"])
    page = client.get(reverse("contracts:detail", args=[contract.pk])).content.decode()
    printed = client.get(reverse("contracts:print", args=[contract.pk])).content.decode()
    api = client.get(f"/api/v1/contracts/{contract.pk}/").json()
    assert 'data-testid="contract-total">¥107.37<' in page
    assert 'data-testid="print-total">¥107.37<' in printed
    assert 'data-testid="print-discount">-¥5.00<' in printed
    assert api["total"] == "107.37"
    assert api["discount_total"] == "5.00"
    assert api["lines"][0]["amount"] == "107.37"


def _form_data(customer, product, **extra):
    data = {
        "name": "页面合同",
        "kind": "contract",
        "customer": customer.pk,
        "signed_on": timezone.localdate().isoformat(),
        "tax_percent": "13",
        "line_product": [str(product.pk)],
        "line_quantity": ["2"],
        "line_unit_price": [""],
        "line_discount": ["0"],
        "line_tax": ["13"],
        "line_description": [""],
    }
    data.update(extra)
    return data


def test_form_creates_and_bad_input_changes_nothing(client, users, catalog, customers):
    login(client, users["sales1"])
    assert client.get(reverse("contracts:create")).status_code == 200
    bad = _form_data(customers["mine"], catalog["lock"], line_quantity=["-2"])
    response = client.post(reverse("contracts:create"), bad)
    assert response.status_code == 400
    assert "数量必须大于 0" in response.content.decode()
    bad = _form_data(customers["mine"], catalog["lock"], start_on="2026-06-01", end_on="2026-05-01")
    response = client.post(reverse("contracts:create"), bad)
    assert response.status_code == 400
    assert "结束日期不能早于开始日期" in response.content.decode()
    assert Contract.objects.count() == 0
    response = client.post(reverse("contracts:create"), _form_data(customers["mine"], catalog["lock"]))
    contract = Contract.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("contracts:detail", args=[contract.pk])
    assert contract.total == Decimal("2935.74")  # 2 × 1299 × 1.13


def test_line_row_prices_from_policy(client, users, catalog, customers):
    login(client, users["sales1"])
    response = client.get(
        reverse("contracts:line_row"),
        {"line_product": catalog["lock"].pk, "line_quantity": "1", "customer": customers["mine"].pk},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TRIGGER_NAME="line_product",
    )
    assert response.status_code == 200
    assert 'value="1299.00"' in response.content.decode()


def test_approved_contract_is_locked_in_the_ui(client, users, catalog, customers, approved_contract):
    login(client, users["sales1"])
    response = client.get(reverse("contracts:edit", args=[approved_contract.pk]))
    assert response.status_code == 302
    response = client.post(
        reverse("contracts:edit", args=[approved_contract.pk]), _form_data(customers["mine"], catalog["pen"])
    )
    assert response.status_code == 302
    approved_contract.refresh_from_db()
    assert approved_contract.lines.get().product == catalog["lock"]
    html = client.get(reverse("contracts:detail", args=[approved_contract.pk])).content.decode()
    assert 'data-testid="contract-edit"' not in html
    assert 'data-testid="contract-revise"' in html
    response = client.post(reverse("contracts:action", args=[approved_contract.pk]), {"action": "revise"})
    assert response.status_code == 302
    approved_contract.refresh_from_db()
    assert approved_contract.status == Contract.Status.DRAFT


def test_submit_without_flow_shows_message(client, users, make_contract):
    contract = make_contract()
    login(client, users["sales1"])
    response = client.post(reverse("contracts:action", args=[contract.pk]), {"action": "submit"}, follow=True)
    assert "没有适用于该合同的审批流" in response.content.decode()
    contract.refresh_from_db()
    assert contract.status == Contract.Status.DRAFT


def test_attachment_upload_and_download_checks_visibility(client, users, make_contract, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    contract = make_contract()
    login(client, users["sales1"])
    upload = SimpleUploadedFile("合同扫描件.pdf", b"%PDF-1.4\n%test\n", content_type="application/pdf")
    response = client.post(reverse("contracts:attachment_upload", args=[contract.pk]), {"file": upload})
    assert response.status_code == 302
    attachment = contract.attachments.get()
    url = reverse("contracts:attachment_download", args=[contract.pk, attachment.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    login(client, users["sales2"])
    assert client.get(url).status_code == 404
    bad = SimpleUploadedFile("x.exe", b"MZ", content_type="application/octet-stream")
    login(client, users["sales1"])
    response = client.post(reverse("contracts:attachment_upload", args=[contract.pk]), {"file": bad})
    assert response.status_code == 400
    assert contract.attachments.count() == 1


def test_settings_page(client, users):
    login(client, users["admin"])
    assert client.get(reverse("contracts:settings")).status_code == 200
    response = client.post(reverse("contracts:settings"), {"credit_mode": "refuse", "earn_points": "on"})
    assert response.status_code == 302
    assert ContractSettings.load().credit_mode == "refuse"
    response = client.post(reverse("contracts:settings"), {"credit_mode": "nonsense"})
    assert response.status_code == 400
    assert ContractSettings.load().credit_mode == "refuse"


def test_customer_page_card(client, users, customers, make_contract):
    contract = make_contract()
    login(client, users["sales1"])
    html = client.get(reverse("customers:detail", args=[customers["mine"].pk])).content.decode()
    assert 'data-testid="customer-contracts"' in html
    assert contract.code in html
    assert 'data-testid="customer-contract-add"' in html


def test_quote_to_contract_button_and_expired_quote(client, users, catalog, customers):
    quote = quote_services.quote_create(
        actor=users["sales1"],
        values={"customer": customers["mine"]},
        lines=[{"product": catalog["pen"].pk, "quantity": 1}],
    )
    login(client, users["sales1"])
    html = client.get(reverse("quotes:detail", args=[quote.pk])).content.decode()
    assert 'data-testid="quote-to-contract"' in html
    response = client.post(reverse("contracts:from_quote", args=[quote.pk]))
    contract = Contract.objects.get()
    assert response.url == reverse("contracts:edit", args=[contract.pk])
    quote.refresh_from_db()
    assert quote.status == Quote.Status.ACCEPTED
    expired = quote_services.quote_create(
        actor=users["sales1"],
        values={"customer": customers["mine"]},
        lines=[{"product": catalog["pen"].pk, "quantity": 1}],
    )
    Quote.objects.filter(pk=expired.pk).update(valid_until=timezone.localdate() - timedelta(days=2))
    response = client.post(reverse("contracts:from_quote", args=[expired.pk]), follow=True)
    assert "过期，不能转为合同" in response.content.decode()
    assert Contract.objects.count() == 1
    login(client, users["sales2"])
    assert client.post(reverse("contracts:from_quote", args=[quote.pk])).status_code == 404
