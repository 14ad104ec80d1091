"""Printing envelopes for one or many customers (CUS-17)."""

import re

import pytest

from crm.audit.models import OperationLog
from crm.printing.models import EnvelopeTemplate
from crm.printing.tests.conftest import login, restrict

pytestmark = pytest.mark.django_db

URL = "/print/envelopes/print/"


def envelope_count(html: str) -> int:
    return len(re.findall(r'class="envelope"', html))


def test_one_envelope_per_selected_visible_customer(client, users, make_customer, dl_template):
    mine = [make_customer(f"客户{i}", address=f"深圳市南山区{i}号", postcode="518000") for i in range(3)]
    other = make_customer("别人的客户", owner="sales2")
    login(client, users["sales1"])
    response = client.post(URL, {"ids": [c.pk for c in mine] + [other.pk, 999999]})
    assert response.status_code == 200
    html = response.content.decode()
    assert envelope_count(html) == 3
    assert "别人的客户" not in html
    assert "深圳市南山区1号" in html and "518000" in html
    assert "@page { size: 220mm 110mm; margin: 0; }" in html
    logged = OperationLog.objects.filter(action="customer.printed", actor=users["sales1"])
    assert sorted(int(log.target_id) for log in logged) == sorted(c.pk for c in mine)
    assert "打印信封（标准 DL 信封）" in logged.first().message


def test_page_break_after_every_envelope_but_the_last_in_css():
    from pathlib import Path

    css = (Path(__file__).resolve().parents[1] / "static/printing/envelope.css").read_text()
    assert "page-break-after: always" in css and ".envelope:last-child" in css


def test_customer_name_is_escaped_on_the_envelope(client, users, make_customer, dl_template):
    customer = make_customer("<script>alert('x')</script>有限公司")
    login(client, users["sales1"])
    html = client.get(URL, {"ids": customer.pk}).content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;有限公司" in html


def test_primary_contact_fills_the_contact_placeholder(client, users, make_customer, dl_template):
    customer = make_customer("甲公司", contacts=[{"name": "王五", "mobile": "13800000001"}])
    make_customer("乙公司")
    login(client, users["sales1"])
    html = client.get(URL, {"ids": customer.pk}).content.decode()
    assert "王五 收" in html


def test_chosen_template_is_used(client, users, make_customer, dl_template):
    c5 = EnvelopeTemplate.objects.create(
        name="C5 大信封", paper="C5", width_mm=229, height_mm=162, recipient_text="致 {{客户名称}}"
    )
    customer = make_customer("甲公司")
    login(client, users["sales1"])
    html = client.post(URL, {"ids": [customer.pk], "template": c5.pk}).content.decode()
    assert "致 甲公司" in html and "size: 229mm 162mm" in html
    assert f'<option value="{dl_template.pk}"' in html  # the picker offers the others


def test_only_invisible_ids_is_a_clear_error(client, users, make_customer, dl_template):
    other = make_customer("别人的客户", owner="sales2")
    login(client, users["sales1"])
    response = client.post(URL, {"ids": [other.pk, "abc"]})
    assert response.status_code == 400
    assert "没有可打印信封的客户" in response.content.decode()
    assert not OperationLog.objects.filter(action="customer.printed").exists()


def test_without_print_permission_is_403(client, users, make_customer, dl_template):
    customer = make_customer("甲公司")
    login(client, users["finance"])  # customers.view, scope all, no customers.print
    assert client.post(URL, {"ids": [customer.pk]}).status_code == 403
    assert client.get(f"/print/customers/{customer.pk}/").status_code == 403
    assert client.post("/print/customers/", {"ids": [customer.pk]}).status_code == 403


def test_hidden_field_is_empty_on_the_envelope(client, users, make_customer, dl_template):
    customer = make_customer("甲公司", address="机密地址1号")
    restrict(users["sales1"], {"customers.address": "hidden"})
    login(client, users["sales1"])
    html = client.get(URL, {"ids": customer.pk}).content.decode()
    assert "甲公司" in html and "机密地址1号" not in html


@pytest.mark.parametrize("count", [3, 30])
def test_query_count_is_bounded(
    client, users, make_customer, dl_template, count, django_assert_max_num_queries
):
    customers = [
        make_customer(f"客户{i}", contacts=[{"name": f"联系人{i}"}], address="深圳") for i in range(count)
    ]
    login(client, users["manager"])
    client.get("/")  # warm the session
    with django_assert_max_num_queries(16):
        response = client.post(URL, {"ids": [c.pk for c in customers]})
    assert envelope_count(response.content.decode()) == count


def test_bulk_bar_offers_print_buttons(client, users, make_customer):
    make_customer("甲公司")
    login(client, users["sales1"])
    html = client.get("/customers/?scope=all").content.decode()
    assert 'data-testid="bulk-print-envelopes"' in html and 'formaction="/print/envelopes/print/"' in html
    login(client, users["finance"])
    html = client.get("/customers/?scope=all").content.decode()
    assert 'data-testid="bulk-print-envelopes"' not in html


def test_detail_page_links_print_views(client, users, make_customer):
    customer = make_customer("甲公司")
    login(client, users["sales1"])
    html = client.get(f"/customers/{customer.pk}/").content.decode()
    assert f'href="/print/customers/{customer.pk}/"' in html
    assert f'href="/print/envelopes/print/?ids={customer.pk}"' in html
