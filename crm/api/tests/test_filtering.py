"""Filters every customer and sales list shares: owner and the creation date range."""

import datetime as dt

import pytest
from django.utils import timezone

from crm.api.tests import token_client
from crm.customers.models import Customer
from crm.customers.services import customer_create
from crm.leads import services as lead_services

pytestmark = pytest.mark.django_db


def _ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def _created_on(customer, day: dt.date) -> None:
    moment = timezone.make_aware(dt.datetime.combine(day, dt.time(23, 30)))  # late evening, local time
    Customer.objects.filter(pk=customer.pk).update(created_at=moment)


def test_customers_filter_by_owner_and_creation_days(users):
    mine = customer_create(actor=users["sales1"], values={"name": "一号公司"})
    other = customer_create(actor=users["manager"], owner=users["sales2"], values={"name": "二号公司"})
    old = customer_create(actor=users["sales1"], values={"name": "三号公司"})
    _created_on(mine, dt.date(2026, 11, 20))
    _created_on(other, dt.date(2026, 11, 21))
    _created_on(old, dt.date(2026, 10, 1))
    client = token_client(users["admin"])

    assert _ids(client.get("/api/v1/customers/", {"owner": users["sales1"].pk})) == {mine.pk, old.pk}
    in_november = {"created_from": "2026-11-20", "created_to": "2026-11-21"}
    assert _ids(client.get("/api/v1/customers/", in_november)) == {mine.pk, other.pk}
    # The last day counts whole (23:30 local time on the 20th is still the 20th).
    assert _ids(client.get("/api/v1/customers/", {"created_to": "2026-11-20"})) == {mine.pk, old.pk}
    both = {"owner": users["sales1"].pk, "created_from": "2026-11-01"}
    assert _ids(client.get("/api/v1/customers/", both)) == {mine.pk}


def test_filters_stay_inside_the_callers_data_scope(users):
    customer_create(actor=users["manager"], owner=users["sales2"], values={"name": "华东公司"})
    client = token_client(users["sales1"])  # sales1 may not see sales2's customers
    assert _ids(client.get("/api/v1/customers/", {"owner": users["sales2"].pk})) == set()


def test_leads_take_the_date_range_too(users):
    lead = lead_services.lead_create(actor=users["sales1"], values={"company": "星辰科技"})
    client = token_client(users["sales1"])
    today = timezone.localdate().isoformat()
    assert _ids(client.get("/api/v1/leads/", {"created_from": today})) == {lead.pk}
    assert _ids(client.get("/api/v1/leads/", {"created_to": "2000-01-01"})) == set()


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"created_from": "2026-13-01"}, "created_from", "日期格式应为 YYYY-MM-DD。"),
        (
            {"created_from": "2026-11-21", "created_to": "2026-11-20"},
            "created_to",
            "结束日期不能早于开始日期。",
        ),
        ({"owner": "张三"}, "owner", "负责人应为员工 ID（整数）。"),
    ],
)
@pytest.mark.parametrize("url", ["/api/v1/customers/", "/api/v1/contracts/", "/api/v1/receivables/"])
def test_bad_filter_values_answer_400_naming_the_field(users, url, params, field, message):
    response = token_client(users["admin"]).get(url, params)
    assert response.status_code == 400
    assert response.json()[field] == [message]
