"""Definitions: keys, labels, options, type changes, deactivation, order, permission, audit log."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from crm.audit.models import OperationLog
from crm.customers import services as customer_services
from crm.customfields import selectors
from crm.customfields.models import CustomField
from crm.customfields.services import (
    customfield_create,
    customfield_move,
    customfield_set_active,
    customfield_update,
    slug_from_label,
)


def create(users, **values):
    return customfield_create(actor=users["admin"], target="customers", values=values)


def test_key_comes_from_the_label_pinyin_and_stays_unique(users):
    first = create(users, label="年采购额", field_type="money")
    second = create(users, label="年采购额（去年）", field_type="money")
    assert first.key == "nian_cai_gou_e"
    assert second.key == "nian_cai_gou_e_qu_nian"
    third = create(users, label="Nian Cai Gou E", field_type="text")
    assert third.key == "nian_cai_gou_e_2"
    assert slug_from_label("2025 目标") == "f_2025_mu_biao"
    assert slug_from_label("!!!") == "field"
    assert slug_from_label("exact") == "exact_field"
    assert OperationLog.objects.filter(action="customfield.created", target_id=str(first.pk)).exists()


@pytest.mark.parametrize("key", ["_a", "1abc", "a__b", "a-b", "a_", "contains", "x" * 41, "名称"])
def test_bad_keys_are_refused(users, key):
    with pytest.raises(ValidationError) as info:
        create(users, label="字段", field_type="text", key=key)
    assert "key" in info.value.message_dict
    assert not CustomField.objects.exists()


def test_labels_and_keys_are_unique_per_target(users):
    create(users, label="行业细分", field_type="text", key="segment")
    with pytest.raises(ValidationError) as info:
        create(users, label="行业细分", field_type="text")
    assert info.value.message_dict["label"] == ["字段名称“行业细分”已存在。"]
    with pytest.raises(ValidationError) as info:
        create(users, label="另一个", field_type="text", key="segment")
    assert info.value.message_dict["key"] == ["字段标识“segment”已被使用。"]


def test_choice_fields_need_clean_options(users):
    with pytest.raises(ValidationError) as info:
        create(users, label="意向", field_type="choice", options=[" ", ""])
    assert "至少要有一个选项" in info.value.message_dict["options"][0]
    with pytest.raises(ValidationError) as info:
        create(users, label="意向", field_type="choice", options=["A", "A"])
    assert "重复" in info.value.message_dict["options"][0]
    field = create(users, label="意向", field_type="multi_choice", options=" 强烈 \n\n一般\n")
    assert field.options == ["强烈", "一般"]
    text = create(users, label="文本", field_type="text", options=["ignored"])
    assert text.options == []
    with pytest.raises(ValidationError) as info:
        create(users, label="类型", field_type="spreadsheet")
    assert "field_type" in info.value.message_dict


def test_key_is_immutable(users):
    field = create(users, label="备注说明", field_type="text", key="note")
    with pytest.raises(ValidationError) as info:
        customfield_update(actor=users["admin"], field=field, values={"key": "other"})
    assert info.value.message_dict["key"] == ["字段标识创建后不能修改。"]
    field.refresh_from_db()
    assert field.key == "note"


def test_type_change_is_refused_once_a_record_has_a_value(users):
    field = create(users, label="员工人数", field_type="text", key="headcount")
    field = customfield_update(actor=users["admin"], field=field, values={"field_type": "number"})
    assert field.field_type == "number"  # no values yet: allowed
    customer_services.customer_create(
        actor=users["sales1"], values={"name": "甲公司"}, custom_values={"headcount": "12"}
    )
    with pytest.raises(ValidationError) as info:
        customfield_update(actor=users["admin"], field=field, values={"field_type": "text"})
    assert "已有 1 条记录填写了值，不能再修改字段类型" in info.value.message_dict["field_type"][0]
    field.refresh_from_db()
    assert field.field_type == "number"
    # Other changes still work.
    field = customfield_update(actor=users["admin"], field=field, values={"label": "人数", "required": True})
    assert (field.label, field.required) == ("人数", True)
    log = OperationLog.objects.filter(action="customfield.updated", target_id=str(field.pk)).latest("id")
    assert log.changes["label"] == ["员工人数", "人数"]


def test_deactivate_hides_the_field_and_activate_brings_it_back(users):
    field = create(users, label="备注说明", field_type="text", key="note")
    customfield_set_active(actor=users["admin"], field=field, active=False)
    assert selectors.active_fields("customers") == []
    assert selectors.field_choices("customers") == []
    assert OperationLog.objects.filter(action="customfield.deactivated").count() == 1
    customfield_set_active(actor=users["admin"], field=field, active=False)  # no change, no log
    assert OperationLog.objects.filter(action="customfield.deactivated").count() == 1
    customfield_set_active(actor=users["admin"], field=field, active=True)
    assert selectors.field_choices("customers") == [("custom.note", "备注说明")]


def test_move_renumbers_the_order(users):
    a = create(users, label="甲", field_type="text", key="a")
    b = create(users, label="乙", field_type="text", key="b")
    c = create(users, label="丙", field_type="text", key="c")
    customfield_move(actor=users["admin"], field=c, direction="up")
    assert [f.key for f in selectors.active_fields("customers")] == ["a", "c", "b"]
    customfield_move(actor=users["admin"], field=a, direction="up")  # already first: nothing moves
    assert [f.key for f in selectors.active_fields("customers")] == ["a", "c", "b"]
    customfield_move(actor=users["admin"], field=a, direction="down")
    assert [f.key for f in selectors.active_fields("customers")] == ["c", "a", "b"]
    with pytest.raises(ValidationError):
        customfield_move(actor=users["admin"], field=b, direction="sideways")


@pytest.mark.parametrize("role", ["manager", "sales1", "finance", "norole"])
def test_only_holders_of_customers_settings_keep_definitions(users, role):
    with pytest.raises(PermissionDenied):
        create(users | {"admin": users[role]}, label="字段", field_type="text")
    field = create(users, label="字段", field_type="text")
    with pytest.raises(PermissionDenied):
        customfield_update(actor=users[role], field=field, values={"label": "改名"})
    with pytest.raises(PermissionDenied):
        customfield_set_active(actor=users[role], field=field, active=False)
    field.refresh_from_db()
    assert field.label == "字段" and field.is_active
    assert create(users | {"admin": users["administrator"]}, label="管理员的", field_type="text").pk


def test_unknown_target_is_refused(users):
    with pytest.raises(ValidationError):
        customfield_create(
            actor=users["admin"], target="spaceships", values={"label": "x", "field_type": "text"}
        )


def test_customer_services_log_custom_changes(users, fields):
    customer = customer_services.customer_create(
        actor=users["sales1"], values={"name": "甲公司"}, custom_values={"intent": "强烈", "purchase": "10"}
    )
    assert customer.custom_data == {"intent": "强烈", "purchase": "10.00"}
    created = OperationLog.objects.get(action="customer.created", target_id=str(customer.pk))
    assert created.changes["custom.intent"] == [None, "强烈"]
    customer_services.customer_update(
        actor=users["sales1"], customer=customer, values={}, custom_values={"intent": "一般"}
    )
    customer.refresh_from_db()
    assert customer.custom_data == {"intent": "一般", "purchase": "10.00"}
    updated = OperationLog.objects.get(action="customer.updated", target_id=str(customer.pk))
    assert updated.changes == {"custom.intent": ["强烈", "一般"]}
    # Bad values change nothing.
    with pytest.raises(ValidationError):
        customer_services.customer_update(
            actor=users["sales1"],
            customer=customer,
            values={"name": "乙公司"},
            custom_values={"purchase": "x"},
        )
    customer.refresh_from_db()
    assert customer.name == "甲公司" and customer.custom_data["purchase"] == "10.00"


def test_callers_that_give_no_custom_values_are_not_held_to_required_fields(users, fields):
    customfield_update(actor=users["admin"], field=fields["intent"], values={"required": True})
    customer = customer_services.customer_create(actor=users["sales1"], values={"name": "公海导入"})
    assert customer.custom_data == {}
    with pytest.raises(ValidationError):
        customer_services.customer_create(actor=users["sales1"], values={"name": "表单"}, custom_values={})
