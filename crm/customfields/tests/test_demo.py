"""Demo data: three custom fields with values on demo customers, created once."""

from crm.customers.demo import seed_custom_fields
from crm.customers.models import Customer
from crm.customers.services import customer_create
from crm.customfields.models import CustomField


def test_seed_custom_fields_is_idempotent(users):
    for name in ("甲公司", "乙公司", "丙公司"):
        customer_create(actor=users["sales1"], values={"name": name})
    assert seed_custom_fields() == 3
    fields = dict(CustomField.objects.values_list("key", "field_type"))
    assert fields == {"annual_purchase": "money", "cooperation_intent": "choice", "is_listed": "boolean"}
    data = list(Customer.objects.order_by("pk").values_list("custom_data", flat=True))
    assert all(isinstance(d["is_listed"], bool) for d in data)
    assert seed_custom_fields() == 0
    assert CustomField.objects.count() == 3
    assert list(Customer.objects.order_by("pk").values_list("custom_data", flat=True)) == data


def test_demo_values_pass_validation(users):
    from crm.customfields.services import clean_custom_values

    customer_create(actor=users["sales1"], values={"name": "甲公司"})
    seed_custom_fields()
    data = Customer.objects.get().custom_data
    assert clean_custom_values("customers", dict(data), instance_data=data) == data
