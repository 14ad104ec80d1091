"""The customer print view and the printed list selection (CUS-17)."""

import pytest

from crm.activities import services as activity_services
from crm.audit.models import OperationLog
from crm.customers.models import DictionaryItem
from crm.printing.tests.conftest import login, restrict

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(make_customer):
    return make_customer(
        "深圳市华强电子有限公司",
        address="深圳市福田区华强北路1002号",
        mobile="13812345678",
        remark="重要客户",
        contacts=[{"name": "张伟", "mobile": "13900001111", "title": "采购经理"}],
    )


def test_print_view_shows_fields_contacts_and_recent_followups(client, users, customer):
    phone, _ = DictionaryItem.objects.get_or_create(kind="followup_type", name="电话", parent=None)
    for i in range(22):
        activity_services.followup_create(
            actor=users["sales1"], customer_id=customer.pk, type=phone, content=f"第{i}次沟通"
        )
    login(client, users["sales1"])
    response = client.get(f"/print/customers/{customer.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "深圳市华强电子有限公司" in html and "深圳市福田区华强北路1002号" in html
    assert "13812345678" in html and "重要客户" in html
    assert "张伟" in html and "采购经理" in html
    assert html.count('data-testid="print-followup"') == 20
    assert "第21次沟通" in html and "第0次沟通" not in html  # the 20 latest
    assert "@page { size: A4;" in html and "data-print" in html
    assert 'class="navbar' not in html  # no navigation chrome
    assert OperationLog.objects.filter(action="customer.printed", target_id=str(customer.pk)).exists()


def test_print_view_respects_field_permissions(client, users, customer):
    restrict(
        users["sales1"],
        {"customers.address": "hidden", "customers.mobile": "mask", "customers.remark": "hidden"},
    )
    login(client, users["sales1"])
    html = client.get(f"/print/customers/{customer.pk}/").content.decode()
    assert "华强北路" not in html and "重要客户" not in html
    assert "13812345678" not in html and "138****5678" in html


def test_print_view_of_an_invisible_customer_is_404(client, users, customer):
    login(client, users["sales2"])
    assert client.get(f"/print/customers/{customer.pk}/").status_code == 404
    assert client.get("/print/customers/99999999/").status_code == 404


def test_custom_fields_are_printed(client, users, make_customer):
    from crm.customers.models import Customer
    from crm.customfields import services as cf_services

    cf_services.customfield_create(
        actor=users["admin"],
        target="customers",
        values={"label": "行业资质", "key": "license", "field_type": "text"},
    )
    customer = make_customer("甲公司")
    Customer.objects.filter(pk=customer.pk).update(custom_data={"license": "ISO9001"})
    login(client, users["sales1"])
    html = client.get(f"/print/customers/{customer.pk}/").content.decode()
    assert "行业资质" in html and "ISO9001" in html


def test_list_selection_prints_a_table_with_the_list_columns(client, users, make_customer):
    a = make_customer("甲公司")
    b = make_customer("乙公司")
    other = make_customer("丙公司", owner="sales2")
    login(client, users["sales1"])
    response = client.post(
        "/print/customers/",
        {"ids": [a.pk, b.pk, other.pk], "next": "/customers/?cc_set=1&cols=code&cols=owner"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('data-testid="print-customer-row"') == 2
    assert a.code and a.code in html and "丙公司" not in html
    assert "负责人" in html and "创建时间" not in html  # only the columns the list showed
    assert "landscape" in html


def test_list_print_without_selection_goes_back_with_a_message(client, users):
    login(client, users["sales1"])
    response = client.post("/print/customers/", {"ids": []}, follow=True)
    assert "请先勾选要打印的客户" in response.content.decode()
