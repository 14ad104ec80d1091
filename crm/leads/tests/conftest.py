import pytest

from crm.customers.models import DictionaryItem
from crm.leads import services


@pytest.fixture
def phone(db):
    item, _created = DictionaryItem.objects.get_or_create(kind="followup_type", name="电话", parent=None)
    return item


@pytest.fixture
def source(db):
    item, _created = DictionaryItem.objects.get_or_create(kind="source", name="展会", parent=None)
    return item


@pytest.fixture
def make_lead(users, source):
    def make(actor=None, **values):
        values.setdefault("company", "深圳市星辰科技有限公司")
        values.setdefault("contact_name", "王伟")
        values.setdefault("mobile", "13800138000")
        values.setdefault("title", "采购经理")
        values.setdefault("email", "wang@example.com")
        values.setdefault("source", source)
        return services.lead_create(actor=actor or users["sales1"], values=values)

    return make
