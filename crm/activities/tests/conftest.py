from datetime import timedelta

import pytest
from django.utils import timezone

from crm.activities import services
from crm.customers import services as customer_services
from crm.customers.models import Contact, DictionaryItem


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def phone(db):
    item, _created = DictionaryItem.objects.get_or_create(kind="followup_type", name="电话", parent=None)
    return item


@pytest.fixture
def customer(users):
    """A customer owned by sales1 (scope 本人), with one contact."""
    return customer_services.customer_create(actor=users["sales1"], values={"name": "深圳甲科技有限公司"})


@pytest.fixture
def other_customer(users):
    return customer_services.customer_create(actor=users["sales2"], values={"name": "杭州乙贸易有限公司"})


@pytest.fixture
def contact(customer):
    return Contact.objects.create(customer=customer, name="张三", mobile="13800000000")


@pytest.fixture
def make_followup(users, customer, phone):
    def make(actor=None, target=None, **values):
        values.setdefault("content", "电话沟通了报价")
        values.setdefault("type", phone)
        return services.followup_create(
            actor=actor or users["sales1"], customer_id=(target or customer).pk, **values
        )

    return make


def later(**kwargs):
    return timezone.now() + timedelta(**kwargs)
