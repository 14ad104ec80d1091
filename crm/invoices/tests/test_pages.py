from datetime import date
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.test import RequestFactory

from crm.invoices import services
from crm.invoices.models import Invoice

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


def test_list_shows_visible_invoices_with_search_and_tabs(
    client, users, contract, other_contract, request_invoice, issued_invoice
):
    mine = request_invoice(contract, "50.00")
    theirs = request_invoice(other_contract, "70.00", kind="normal")
    login(client, users["sales1"])
    html = client.get("/invoices/").content.decode()
    assert mine.code in html and issued_invoice.code in html and theirs.code not in html
    html = client.get("/invoices/", {"status": "issued"}).content.decode()
    assert issued_invoice.code in html and mine.code not in html
    html = client.get("/invoices/", {"q": "12345678"}).content.decode()  # the invoice number
    assert issued_invoice.code in html and mine.code not in html
    html = client.get("/invoices/", {"q": mine.code.lower()}).content.decode()
    assert mine.code in html and issued_invoice.code not in html
    assert theirs.code not in client.get("/invoices/", {"q": "上海远航"}).content.decode()
    login(client, users["finance"])
    html = client.get("/invoices/", {"q": "上海远航"}).content.decode()
    assert theirs.code in html and mine.code not in html
    assert client.get("/invoices/", {"status": "bogus", "cursor": "junk"}).status_code == 200


def test_list_pages_by_keyset_with_bounded_queries(
    client, users, make_contract, request_invoice, django_assert_max_num_queries
):
    contract = make_contract(total="100000.00")
    codes = {request_invoice(contract, "10.00").code for _ in range(25)}
    login(client, users["finance"])
    client.get("/invoices/")  # warm the session and the caches
    with django_assert_max_num_queries(12):
        first = client.get("/invoices/")
    page = first.context["page"]
    assert len(page.items) == 20 and page.next_cursor
    second = client.get("/invoices/", {"cursor": page.next_cursor}).context["page"]
    assert len(second.items) == 5 and second.next_cursor is None
    assert {i.code for i in page.items} | {i.code for i in second.items} == codes


def test_navigation_entry(client, users):
    login(client, users["sales1"])
    assert 'href="/invoices/"' in client.get("/").content.decode()
    login(client, users["norole"])
    assert 'href="/invoices/"' not in client.get("/").content.decode()
    assert client.get("/invoices/").status_code == 403


def test_request_form_creates_the_invoice(client, users, contract):
    login(client, users["sales1"])
    page = client.get(f"/invoices/contract/{contract.pk}/new/")
    html = page.content.decode()
    assert page.status_code == 200 and "深圳华创科技有限公司" in html and "91440300MA5F0XXX1E" in html
    assert 'value="1000.00"' in html  # the whole remaining amount is offered
    response = client.post(
        f"/invoices/contract/{contract.pk}/new/",
        {"kind": "special", "amount": "100.00", "tax_percent": "13", "title": "", "tax_number": ""},
    )
    invoice = Invoice.objects.get()
    assert response.status_code == 302 and response.url == f"/invoices/{invoice.pk}/"
    detail = client.get(response.url).content.decode()
    assert "¥100.00" in detail and "¥11.50" in detail and invoice.code in detail
    assert 'data-testid="invoice-issue-form"' not in detail  # a salesperson has no finance actions
    contract.refresh_from_db()
    assert contract.invoiced_amount == Decimal("100.00")


def test_request_form_refuses_too_much_and_changes_nothing(client, users, contract, request_invoice):
    request_invoice(contract, "900.00")
    login(client, users["sales1"])
    response = client.post(
        f"/invoices/contract/{contract.pk}/new/", {"kind": "special", "amount": "100.01", "tax_percent": "13"}
    )
    assert response.status_code == 400
    assert "最多还可申请 ¥100.00" in response.content.decode()
    response = client.post(
        f"/invoices/contract/{contract.pk}/new/", {"kind": "special", "amount": "abc", "tax_percent": "13"}
    )
    assert response.status_code == 400
    assert Invoice.objects.count() == 1
    contract.refresh_from_db()
    assert contract.invoiced_amount == Decimal("900.00")


def test_request_form_on_a_draft_contract(client, users, make_contract):
    draft = make_contract(status="draft")
    login(client, users["sales1"])
    assert "尚未审批通过" in client.get(f"/invoices/contract/{draft.pk}/new/").content.decode()
    response = client.post(
        f"/invoices/contract/{draft.pk}/new/", {"kind": "special", "amount": "1", "tax_percent": "13"}
    )
    assert response.status_code == 400 and not Invoice.objects.exists()


def test_other_salesperson_gets_404(client, users, contract, request_invoice):
    invoice = request_invoice(contract)
    login(client, users["sales2"])
    assert client.get(f"/invoices/{invoice.pk}/").status_code == 404
    assert client.get(f"/invoices/contract/{contract.pk}/new/").status_code == 404
    response = client.post(
        f"/invoices/contract/{contract.pk}/new/", {"kind": "special", "amount": "1", "tax_percent": "13"}
    )
    assert response.status_code == 404
    assert (
        client.post(f"/invoices/{invoice.pk}/action/", {"action": "void", "void_reason": "x"}).status_code
        == 404
    )
    assert Invoice.objects.count() == 1


def test_salesperson_cannot_issue_through_the_page(client, users, contract, request_invoice):
    invoice = request_invoice(contract)
    login(client, users["sales1"])
    response = client.post(
        f"/invoices/{invoice.pk}/action/",
        {"action": "issue", "invoice_number": "12345678", "issued_on": "2026-11-20"},
    )
    assert response.status_code == 403
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.REQUESTED and invoice.invoice_number == ""


def test_finance_issues_mails_and_voids_through_the_page(
    client, users, contract, request_invoice, django_assert_max_num_queries
):
    invoice = request_invoice(contract, "300.00")
    login(client, users["finance"])
    client.get(f"/invoices/{invoice.pk}/")
    with django_assert_max_num_queries(12):
        html = client.get(f"/invoices/{invoice.pk}/").content.decode()
    assert 'data-testid="invoice-issue-form"' in html and 'data-testid="invoice-mail-form"' not in html
    bad = client.post(
        f"/invoices/{invoice.pk}/action/",
        {"action": "issue", "invoice_number": "1234", "issued_on": "2026-11-20"},
    )
    assert bad.status_code == 400 and "8 位数字" in bad.content.decode()
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.REQUESTED
    ok = client.post(
        f"/invoices/{invoice.pk}/action/",
        {"action": "issue", "invoice_number": "12345678", "issued_on": "2026-11-20"},
    )
    assert ok.status_code == 302
    html = client.get(f"/invoices/{invoice.pk}/").content.decode()
    assert "12345678" in html and 'data-testid="invoice-mail-form"' in html
    bad = client.post(
        f"/invoices/{invoice.pk}/action/",
        {"action": "mail", "tracking_number": "SF123456", "mailed_on": "2026-11-19"},
    )
    assert bad.status_code == 400 and "早于开票日期" in bad.content.decode()
    client.post(
        f"/invoices/{invoice.pk}/action/",
        {"action": "mail", "tracking_number": "SF123456", "mailed_on": "2026-11-21"},
    )
    client.post(f"/invoices/{invoice.pk}/action/", {"action": "void", "void_reason": "客户退票"})
    invoice.refresh_from_db()
    contract.refresh_from_db()
    assert invoice.status == Invoice.Status.VOID and invoice.tracking_number == "SF123456"
    assert contract.invoiced_amount == Decimal("0.00")
    assert client.post(f"/invoices/{invoice.pk}/action/", {"action": "nope"}).status_code == 404


def test_print_view(client, users, issued_invoice):
    login(client, users["finance"])
    html = client.get(f"/invoices/{issued_invoice.pk}/print/").content.decode()
    assert issued_invoice.code in html and "¥300.00" in html and "12345678" in html
    login(client, users["sales1"])  # sales has no invoices.print
    assert client.get(f"/invoices/{issued_invoice.pk}/print/").status_code == 403


def _render(template, user, **context):
    request = RequestFactory().get("/")
    request.user = user
    return Template(template).render(Context({"request": request, **context}))


def test_contract_section_with_fixed_queries(users, contract, request_invoice, django_assert_max_num_queries):
    for _ in range(3):
        request_invoice(contract, "100.00")
    contract.refresh_from_db()
    user = users["sales1"]
    source = '{% include "invoices/_contract_section.html" %}'
    _render(source, user, contract=contract)
    with django_assert_max_num_queries(2):
        html = _render(source, user, contract=contract)
    assert html.count('data-testid="contract-invoice-row"') == 3
    assert "¥300.00" in html and "¥700.00" in html and "申请开票" in html
    for _ in range(5):
        request_invoice(contract, "10.00")
    with django_assert_max_num_queries(2):
        html = _render(source, users["sales1"], contract=contract)
    assert html.count('data-testid="contract-invoice-row"') == 8
    assert 'data-testid="contract-invoices"' not in _render(source, users["norole"], contract=contract)


def test_contract_section_hides_the_button_on_a_full_or_draft_contract(users, make_contract, request_invoice):
    full = make_contract(total="100.00")
    request_invoice(full, "100.00")
    full.refresh_from_db()
    source = '{% include "invoices/_contract_section.html" %}'
    assert 'data-testid="contract-invoice-request"' not in _render(source, users["sales1"], contract=full)
    draft = make_contract(status="draft")
    assert 'data-testid="contract-invoice-request"' not in _render(source, users["sales1"], contract=draft)


def test_customer_section_shows_latest_ten_with_totals(
    users, customers, make_contract, request_invoice, django_assert_max_num_queries
):
    contract = make_contract(total="100000.00")
    invoices = [request_invoice(contract, "10.00") for _ in range(12)]
    services.invoice_issue(
        actor=users["finance"], invoice=invoices[0], invoice_number="12345678", issued_on=date(2026, 11, 20)
    )
    source = '{% include "invoices/_customer_section.html" %}'
    user = users["sales1"]
    _render(source, user, customer=customers["mine"])
    with django_assert_max_num_queries(2):
        html = _render(source, user, customer=customers["mine"])
    assert html.count('data-testid="customer-invoice-row"') == 10
    assert "¥120.00" in html and "¥10.00" in html
    assert invoices[-1].code in html and invoices[0].code not in html  # newest first
    html = _render(source, users["sales2"], customer=customers["mine"])
    assert 'data-testid="customer-invoice-row"' not in html


def test_customer_page_includes_the_card(client, users, customers, contract, request_invoice):
    invoice = request_invoice(contract, "10.00")
    login(client, users["sales1"])
    html = client.get(f"/customers/{customers['mine'].pk}/").content.decode()
    assert 'data-testid="customer-invoices"' in html and invoice.code in html


def test_contract_page_includes_the_section(client, users, contract, request_invoice):
    invoice = request_invoice(contract, "10.00")
    login(client, users["sales1"])
    response = client.get(f"/contracts/{contract.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="contract-invoices"' in html and invoice.code in html
    assert f"/invoices/contract/{contract.pk}/new/" in html
