"""clean_custom_values: every type's valid and invalid input, required fields, deactivated fields."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from crm.customfields.services import clean_custom_values, customfield_set_active, customfield_update


def clean(data, instance_data=None):
    return clean_custom_values("customers", data, instance_data=instance_data)


def error_of(data, key, instance_data=None) -> str:
    with pytest.raises(ValidationError) as info:
        clean(data, instance_data)
    return " ".join(info.value.message_dict[f"custom.{key}"])


@pytest.mark.parametrize(
    ("key", "given", "stored"),
    [
        ("note", "  你好  ", "你好"),
        ("story", "第一行\r\n第二行", "第一行\n第二行"),
        ("headcount", "1,200", "1200"),
        ("headcount", Decimal("12.500"), "12.5"),
        ("headcount", -3, "-3"),
        ("purchase", "1234.5", "1234.50"),
        ("purchase", Decimal("99"), "99.00"),
        ("founded", "2020-02-29", "2020-02-29"),
        ("founded", date(2021, 1, 2), "2021-01-02"),
        ("visited_at", "2026-12-01 09:30", "2026-12-01T01:30:00+00:00"),  # Asia/Shanghai → UTC
        ("visited_at", "2026-12-01T09:30:00+08:00", "2026-12-01T01:30:00+00:00"),
        ("intent", "一般", "一般"),
        ("channels", ["直销", "线上", "直销"], ["线上", "直销"]),  # options' order, no repeats
        ("channels", "代理商", ["代理商"]),
        ("listed", True, True),
        ("listed", "false", False),
        ("listed", "是", True),
        ("hotline", "0755-2677 0000", "0755-2677 0000"),
        ("billing_email", "fp@zte.example", "fp@zte.example"),
        ("homepage", "www.zte.example", "https://www.zte.example"),
        ("homepage", "http://zte.example/a?b=1", "http://zte.example/a?b=1"),
    ],
)
def test_valid_values_are_normalised(fields, key, given, stored):
    assert clean({key: given}) == {key: stored}


def test_datetime_objects_are_stored_in_utc(fields):
    moment = datetime(2026, 5, 1, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert clean({"visited_at": moment}) == {"visited_at": "2026-05-01T00:00:00+00:00"}


def test_user_is_an_active_user_id(fields, users):
    assert clean({"sponsor": str(users["sales2"].pk)}) == {"sponsor": users["sales2"].pk}
    assert clean({"sponsor": users["sales2"]}) == {"sponsor": users["sales2"].pk}
    users["sales2"].is_active = False
    users["sales2"].save()
    assert "在职员工" in error_of({"sponsor": users["sales2"].pk}, "sponsor")
    # A disabled user the record already has stays acceptable.
    kept = {"sponsor": users["sales2"].pk}
    assert clean({"sponsor": users["sales2"].pk}, instance_data=kept) == kept
    assert "在职员工" in error_of({"sponsor": 999999}, "sponsor")
    assert "员工的编号" in error_of({"sponsor": "张三"}, "sponsor")


@pytest.mark.parametrize(
    ("key", "given", "message"),
    [
        ("note", "长" * 201, "不能超过 200 个字符"),
        ("note", {"a": 1}, "应为文本"),
        ("story", "长" * 2001, "不能超过 2000 个字符"),
        ("headcount", "十二", "应为数字"),
        ("headcount", "NaN", "应为数字"),
        ("headcount", True, "应为数字"),
        ("headcount", "0.1234567", "最多 6 位小数"),
        ("headcount", "1e20", "超出了允许的范围"),
        ("purchase", "12.345", "最多两位小数"),
        ("purchase", "abc", "应为数字"),
        ("founded", "2021-02-30", "有效的日期"),
        ("founded", "明天", "有效的日期"),
        ("visited_at", "2026-13-01 09:00", "有效的日期时间"),
        ("intent", "非常强烈", "不是“合作意向”的有效选项"),
        ("intent", ["强烈"], "应为选项之一"),
        ("channels", ["线上", "电视购物"], "电视购物"),
        ("channels", [1, 2], "应为选项的列表"),
        ("listed", "也许", "只能是“是”或“否”"),
        ("hotline", "call me", "有效的电话号码"),
        ("hotline", "+-()", "有效的电话号码"),
        ("billing_email", "not-an-email", "有效的邮箱地址"),
        ("homepage", "javascript:alert(1)", "有效的网址"),
        ("homepage", "ftp://zte.example", "有效的网址"),
    ],
)
def test_invalid_values_get_a_chinese_message_naming_the_field(fields, key, given, message):
    text = error_of({key: given}, key)
    assert message in text
    assert fields[key].label in text


def test_every_bad_field_is_reported_at_once(fields):
    with pytest.raises(ValidationError) as info:
        clean({"headcount": "x", "purchase": "1.234", "note": "好"})
    assert set(info.value.message_dict) == {"custom.headcount", "custom.purchase"}


def test_empty_values_remove_the_key_and_keep_the_others(fields):
    current = {"note": "旧", "purchase": "10.00", "intent": "一般"}
    assert clean({"note": "  ", "purchase": None, "channels": []}, instance_data=current) == {
        "intent": "一般"
    }


def test_required_field_must_hold_a_value(fields, users):
    customfield_update(actor=users["admin"], field=fields["intent"], values={"required": True})
    assert error_of({}, "intent") == "请填写“合作意向”。"
    assert "请填写" in error_of({"intent": ""}, "intent", instance_data={"intent": "一般"})
    assert clean({}, instance_data={"intent": "一般"}) == {"intent": "一般"}
    # A boolean "否" is a value.
    customfield_update(actor=users["admin"], field=fields["listed"], values={"required": True})
    assert clean({"listed": False}, instance_data={"intent": "一般"}) == {"intent": "一般", "listed": False}


def test_deactivated_field_is_not_accepted_but_its_value_is_kept(fields, users):
    customfield_set_active(actor=users["admin"], field=fields["note"], active=False)
    assert "已停用" in error_of({"note": "新值"}, "note")
    assert clean({"intent": "强烈"}, instance_data={"note": "旧值"}) == {"note": "旧值", "intent": "强烈"}


def test_unknown_keys_are_refused(fields):
    with pytest.raises(ValidationError) as info:
        clean({"nope": 1})
    assert info.value.message_dict == {"custom.nope": ["未知的自定义字段“nope”。"]}
    with pytest.raises(ValidationError):
        clean(["not", "a", "dict"])


def test_a_removed_option_the_record_has_stays_acceptable(fields, users):
    customfield_update(actor=users["admin"], field=fields["intent"], values={"options": ["强烈", "观望"]})
    customfield_update(actor=users["admin"], field=fields["channels"], values={"options": ["线上"]})
    current = {"intent": "一般", "channels": ["线上", "代理商"]}
    assert clean(dict(current), instance_data=current) == current
    assert "一般" in error_of({"intent": "一般"}, "intent")
