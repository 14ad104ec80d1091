import pytest
from django.core.exceptions import ValidationError

from crm.audit.models import OperationLog
from crm.customers import selectors, services
from crm.customers.models import Customer, DictionaryItem
from crm.customers.text import credit_code_check_char


def valid_credit_code(body="91440300279583285"):
    return body + credit_code_check_char(body)


def test_create_numbers_and_indexes_the_name(users):
    customer = services.customer_create(actor=users["sales1"], values={"name": "深圳市中兴通讯股份有限公司"})
    assert customer.owner == users["sales1"]
    assert customer.code.startswith("KH") and customer.code.endswith("0001")
    second = services.customer_create(actor=users["sales1"], values={"name": "华为"})
    assert int(second.code[-4:]) == 2
    assert "zhongxing" in customer.name_pinyin and "zx" in customer.name_initials
    assert OperationLog.objects.filter(action="customer.created", target_id=str(customer.pk)).exists()


@pytest.mark.parametrize("query", ["zx", "zhongxing", "中兴", "ZX", "szs"])
def test_search_finds_by_substring_and_pinyin(users, query):
    services.customer_create(actor=users["sales1"], values={"name": "深圳市中兴通讯股份有限公司"})
    services.customer_create(actor=users["sales1"], values={"name": "华为技术有限公司"})
    found = selectors.customer_list(user=users["sales1"], query=query)
    assert [c.name for c in found] == ["深圳市中兴通讯股份有限公司"]


def test_credit_code_is_checked(users):
    with pytest.raises(ValidationError, match="统一社会信用代码"):
        services.customer_create(
            actor=users["sales1"], values={"name": "甲", "credit_code": "91440300279583285X"}
        )
    ok = services.customer_create(
        actor=users["sales1"], values={"name": "甲", "credit_code": valid_credit_code()}
    )
    with pytest.raises(ValidationError, match="已被其他客户使用"):
        services.customer_create(actor=users["sales1"], values={"name": "乙", "credit_code": ok.credit_code})


def test_dictionary_values_must_be_of_the_right_kind(users):
    industry = DictionaryItem.objects.filter(kind="industry").first()
    with pytest.raises(ValidationError):
        services.customer_create(actor=users["sales1"], values={"name": "甲", "status": industry})


def test_scope_sharing_and_transfer(users):
    mine = services.customer_create(actor=users["sales1"], values={"name": "甲公司"})
    assert list(selectors.customers_visible(users["sales2"])) == []
    assert list(selectors.customers_visible(users["manager"])) == [mine]
    services.customers_share(
        actor=users["sales1"], customers=Customer.objects.filter(pk=mine.pk), users=[users["sales2"]]
    )
    assert list(selectors.customers_visible(users["sales2"])) == [mine]
    services.customers_transfer(
        actor=users["manager"], customers=Customer.objects.filter(pk=mine.pk), to_user=users["sales2"]
    )
    mine.refresh_from_db()
    assert mine.owner == users["sales2"] and mine.previous_owner == users["sales1"]
    assert list(selectors.customers_visible(users["sales1"])) == [mine]  # kept on the team


def test_bulk_transfer_is_set_based(users, django_assert_max_num_queries):
    for i in range(30):
        services.customer_create(actor=users["sales1"], values={"name": f"客户{i}"})
    with django_assert_max_num_queries(8):
        moved = services.customers_transfer(
            actor=users["manager"], customers=Customer.objects.all(), to_user=users["sales2"]
        )
    assert moved == 30
    assert OperationLog.objects.filter(action="customer.transferred").count() == 30


def test_recycle_bin_and_restore_to_pool(users):
    customer = services.customer_create(actor=users["sales1"], values={"name": "甲"})
    services.customers_delete(actor=users["sales1"], customers=Customer.objects.filter(pk=customer.pk))
    assert list(selectors.customers_visible(users["sales1"])) == []
    services.customers_restore(
        actor=users["admin"], customers=Customer.objects.filter(pk=customer.pk), pool=services.default_pool()
    )
    customer.refresh_from_db()
    assert customer.owner is None and customer.pool.is_default and customer.deleted_at is None


def test_contacts_keep_one_primary(users):
    customer = services.customer_create(
        actor=users["sales1"], values={"name": "甲"}, contacts=[{"name": "张三"}, {"name": "李四"}]
    )
    assert [(c.name, c.is_primary) for c in customer.contacts.all()] == [("张三", True), ("李四", False)]
    li = customer.contacts.get(name="李四")
    services.contact_update(actor=users["sales1"], contact=li, values={"is_primary": True})
    assert customer.contacts.get(is_primary=True).name == "李四"


def test_unknown_filter_is_rejected(users):
    with pytest.raises(selectors.BadFilterError):
        selectors.customer_list(
            user=users["sales1"], conditions=[selectors.Condition("password", "equals", "x")]
        )
    with pytest.raises(selectors.BadFilterError):
        selectors.customer_list(user=users["sales1"], sort="owner__password")


def test_a_deactivated_dictionary_value_does_not_block_other_edits(users):
    status = DictionaryItem.objects.filter(kind="status").first()
    customer = services.customer_create(actor=users["sales1"], values={"name": "甲", "status": status})
    DictionaryItem.objects.filter(pk=status.pk).update(is_active=False)
    services.customer_update(actor=users["sales1"], customer=customer, values={"remark": "改备注"})
    customer.refresh_from_db()
    assert customer.status == status and customer.remark == "改备注"
    other = services.customer_create(actor=users["sales1"], values={"name": "乙"})
    with pytest.raises(ValidationError):
        services.customer_update(actor=users["sales1"], customer=other, values={"status": customer.status})
