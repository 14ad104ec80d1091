"""Duplicate control (查重, CUS-7) and entry policies (CUS-8)."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from crm.audit.models import OperationLog
from crm.customers import services
from crm.customers.duplicates import duplicates_check, normalise_company_name
from crm.customers.models import Customer, CustomerPolicy


def make(user, name, **values):
    return services.customer_create(actor=user, values={"name": name, **values}, allow_duplicates=True)


def set_policy(**values):
    policy = CustomerPolicy.load()
    for field, value in values.items():
        setattr(policy, field, value)
    policy.save()
    return policy


# ---------------------------------------------------------------- normalisation


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("深圳市中兴通讯股份有限公司", "中兴通讯"),
        ("中兴通讯（深圳）有限公司", "中兴通讯"),
        ("中兴通讯(深圳市)有限公司", "中兴通讯"),
        ("ＺＴＥ 中兴通讯 股份有限公司", "zte中兴通讯"),
        ("zte中兴通讯有限责任公司", "zte中兴通讯"),
        ("广东省深圳市南山区中兴通讯有限公司", "中兴通讯"),
        ("广东中兴通讯有限公司", "中兴通讯"),
        ("中兴通讯股份有限公司深圳分公司", "中兴通讯"),
        ("中兴通讯集团有限公司", "中兴通讯"),
        ("中兴通讯（集团）有限公司", "中兴通讯"),
        ("北京字节跳动科技有限公司", "字节跳动科技"),
        ("北京市朝阳区字节跳动科技有限公司", "字节跳动科技"),
        ("新疆维吾尔自治区天山建材集团有限公司", "天山建材"),
        ("广西壮族自治区柳工机械股份有限公司", "柳工机械"),
        ("上海市浦东新区张江高科技园区开发股份有限公司", "张江高科技园区开发"),
        ("阿里巴巴（中国）有限公司", "阿里巴巴"),
        ("Huawei Technologies Co., Ltd.", "huaweitechnologies"),
        ("HUAWEI TECHNOLOGIES CO.,LTD", "huaweitechnologies"),
        ("Acme Company Limited", "acme"),
        ("Acme, Inc.", "acme"),
        ("华为·技术 有限公司", "华为技术"),
        # Too little would be left: keep what there is rather than an empty key.
        ("北京", "北京"),
        ("公司", "公司"),
        ("北京市公司", "北京市"),
        # A city-like word that is also a name is not stripped.
        ("中山大学", "中山大学"),
    ],
)
def test_company_names_are_normalised(name, key):
    assert normalise_company_name(name) == key


def test_name_key_is_stored_on_create_and_on_rename(users):
    customer = make(users["sales1"], "深圳市中兴通讯股份有限公司")
    assert Customer.objects.get(pk=customer.pk).name_key == "中兴通讯"

    services.customer_update(actor=users["sales1"], customer=customer, values={"name": "华为技术有限公司"})

    assert Customer.objects.get(pk=customer.pk).name_key == "华为技术"


# ---------------------------------------------------------------- warn / forbid / off


def test_similar_name_warns_until_confirmed(users):
    make(users["sales2"], "深圳市中兴通讯股份有限公司")

    with pytest.raises(ValidationError) as warned:
        services.customer_create(actor=users["sales1"], values={"name": "中兴通讯（深圳）有限公司"})

    assert warned.value.code == "duplicate_warning"
    assert "深圳市中兴通讯股份有限公司" in warned.value.messages[0]
    assert Customer.objects.count() == 1
    services.customer_create(
        actor=users["sales1"], values={"name": "中兴通讯（深圳）有限公司"}, allow_duplicates=True
    )
    assert Customer.objects.count() == 2


def test_forbid_policy_refuses_the_same_normalised_name_even_when_confirmed(users):
    set_policy(duplicate_mode=CustomerPolicy.DuplicateMode.FORBID)
    make(users["sales2"], "深圳市中兴通讯股份有限公司")

    with pytest.raises(ValidationError) as refused:
        services.customer_create(
            actor=users["sales1"], values={"name": "中兴通讯有限公司"}, allow_duplicates=True
        )
    services.customer_create(actor=users["sales1"], values={"name": "ＺＴＥ中兴通讯"})  # key zte中兴通讯

    assert refused.value.code == "duplicate"
    assert "不能重复录入" in refused.value.messages[0]
    assert sorted(Customer.objects.values_list("name_key", flat=True)) == ["zte中兴通讯", "中兴通讯"]


def test_policy_off_lets_a_same_name_through(users):
    set_policy(duplicate_mode=CustomerPolicy.DuplicateMode.OFF)
    make(users["sales2"], "深圳市中兴通讯股份有限公司")

    services.customer_create(actor=users["sales1"], values={"name": "中兴通讯有限公司"})

    assert Customer.objects.count() == 2


def test_protected_customer_name_warns_even_when_the_policy_is_off(users):
    set_policy(duplicate_mode=CustomerPolicy.DuplicateMode.OFF)
    users["sales2"].name = "李四"
    users["sales2"].save()
    protected = make(users["sales2"], "深圳市中兴通讯股份有限公司")
    Customer.objects.filter(pk=protected.pk).update(protected_until=timezone.now() + timedelta(days=5))

    with pytest.raises(ValidationError) as warned:
        services.customer_create(actor=users["sales1"], values={"name": "中兴通讯有限公司"})

    assert warned.value.code == "duplicate_warning"
    assert "“深圳市中兴通讯股份有限公司”已被 李四 保护" in warned.value.messages[0]


def test_lapsed_protection_no_longer_warns_when_the_policy_is_off(users):
    set_policy(duplicate_mode=CustomerPolicy.DuplicateMode.OFF)
    lapsed = make(users["sales2"], "深圳市中兴通讯股份有限公司")
    Customer.objects.filter(pk=lapsed.pk).update(protected_until=timezone.now() - timedelta(days=1))

    services.customer_create(actor=users["sales1"], values={"name": "中兴通讯有限公司"})

    assert Customer.objects.count() == 2


def test_another_customers_keyword_in_the_new_name_warns(users):
    make(users["sales2"], "深圳市中兴通讯股份有限公司", keyword="ZTE")

    warnings = duplicates_check(values={"name": "ZTE 深圳研究所"}, actor=users["sales1"])

    assert len(warnings) == 1 and "深圳市中兴通讯股份有限公司" in warnings[0]


def test_configured_fields_take_part(users):
    set_policy(duplicate_fields=["name", "mobile", "email", "website", "contact_mobile"])
    other = make(
        users["sales2"], "甲公司", mobile="13800138000", email="a@example.com", website="https://a.cn/"
    )
    services.contact_create(
        actor=users["sales2"], customer=other, values={"name": "王五", "mobile": "13900139000"}
    )

    assert duplicates_check(values={"name": "乙", "mobile": "13800138000"})
    assert duplicates_check(values={"name": "乙", "email": "A@Example.com"})
    assert duplicates_check(values={"name": "乙", "website": "http://www.a.cn"})
    assert duplicates_check(values={"name": "乙"}, contacts=[{"name": "赵六", "mobile": "13900139000"}])
    assert duplicates_check(values={"name": "乙", "phone": "13800138000"}) == []  # phone not configured


def test_deleted_customers_do_not_count(users):
    old = make(users["sales2"], "深圳市中兴通讯股份有限公司")
    services.customers_delete(actor=users["sales2"], customers=Customer.objects.filter(pk=old.pk))

    services.customer_create(actor=users["sales1"], values={"name": "中兴通讯有限公司"})

    assert Customer.objects.filter(deleted_at__isnull=True).count() == 1


def test_editing_other_fields_of_an_existing_duplicate_does_not_warn(users):
    make(users["sales2"], "深圳市中兴通讯股份有限公司")
    mine = make(users["sales1"], "中兴通讯有限公司")

    services.customer_update(actor=users["sales1"], customer=mine, values={"address": "深圳南山"})
    with pytest.raises(ValidationError) as warned:
        other = make(users["sales1"], "华为技术有限公司")
        services.customer_update(actor=users["sales1"], customer=other, values={"name": "中兴通讯"})

    assert warned.value.code == "duplicate_warning"
    assert Customer.objects.get(pk=mine.pk).address == "深圳南山"
    assert Customer.objects.get(pk=other.pk).name == "华为技术有限公司"


# ---------------------------------------------------------------- what a warning shows


def test_warning_shows_only_the_name_and_the_owner_even_for_an_invisible_customer(users):
    users["sales2"].name = "李四"
    users["sales2"].save()
    make(
        users["sales2"],
        "深圳市中兴通讯股份有限公司",
        phone="0755-26770000",
        mobile="13812345678",
        email="secret@zte.com.cn",
        address="深圳市南山区高新南四道",
        remark="机密备注",
    )

    with pytest.raises(ValidationError) as warned:
        services.customer_create(actor=users["sales1"], values={"name": "中兴通讯有限公司"})

    text = " ".join(warned.value.messages)
    assert "深圳市中兴通讯股份有限公司" in text and "李四" in text
    for private in ("0755-26770000", "13812345678", "secret@zte.com.cn", "高新南四道", "机密备注", "KH"):
        assert private not in text


def test_check_page_lists_matches_with_name_and_owner_only(client, users):
    users["sales2"].name = "李四"
    users["sales2"].save()
    make(users["sales2"], "深圳市中兴通讯股份有限公司", mobile="13812345678", email="secret@zte.com.cn")
    protected = make(users["manager"], "华为技术有限公司")
    Customer.objects.filter(pk=protected.pk).update(protected_until=timezone.now() + timedelta(days=3))
    client.force_login(users["sales1"])
    url = reverse("customer_duplicates:check")

    found = client.get(url, {"name": "ＺＴＥ中兴通讯有限公司"})
    not_found = client.get(url, {"name": "腾讯科技"})
    protected_page = client.get(url, {"name": "华为技术"})

    assert found.status_code == 200
    assert 'data-testid="duplicate-match"' not in found.content.decode()  # zte中兴通讯 ≠ 中兴通讯
    found = client.get(url, {"name": "中兴通讯（深圳）有限公司"})
    body = found.content.decode()
    assert body.count('data-testid="duplicate-match"') == 1
    assert "深圳市中兴通讯股份有限公司" in body and "李四" in body
    assert "13812345678" not in body and "secret@zte.com.cn" not in body
    assert 'data-testid="duplicate-none"' in not_found.content.decode()
    assert "已保护" in protected_page.content.decode()


def test_check_page_needs_the_create_permission(client, users):
    client.force_login(users["finance"])

    assert client.get(reverse("customer_duplicates:check"), {"name": "甲"}).status_code == 403


def test_check_page_issues_a_bounded_number_of_queries(client, users, django_assert_max_num_queries):
    for i in range(15):
        make(users["sales2"], f"深圳市中兴通讯股份有限公司{i}号")
        make(users["sales2"], "中兴通讯有限公司")
    client.force_login(users["sales1"])

    with django_assert_max_num_queries(20):
        response = client.get(reverse("customer_duplicates:check"), {"name": "中兴通讯"})

    assert response.content.decode().count('data-testid="duplicate-match"') == 10


# ---------------------------------------------------------------- entry policy (CUS-8)


def test_required_fields_are_enforced(users):
    set_policy(required_fields=["phone", "industry", "contact_name"])

    with pytest.raises(ValidationError) as refused:
        services.customer_create(actor=users["sales1"], values={"name": "甲公司", "phone": " "})

    assert set(refused.value.message_dict) == {"phone", "industry", "contacts"}
    assert Customer.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "bad", "good"),
    [
        ("phone", "电话号码", "0755-26770000"),
        ("fax", "abc", "(0755) 2677 0001"),
        ("mobile", "1381234567", "+86 13812345678"),
        ("qq", "0123", "10001"),
        ("email", "a@b", "a@b.cn"),
        ("postcode", "51800", "518000"),
    ],
)
def test_formats_are_checked(users, field, bad, good):
    with pytest.raises(ValidationError) as refused:
        services.customer_create(actor=users["sales1"], values={"name": "甲公司", field: bad})

    assert field in refused.value.message_dict
    services.customer_create(actor=users["sales1"], values={"name": "甲公司", field: good})
    assert Customer.objects.count() == 1


def test_format_checks_can_be_switched_off(users):
    set_policy(format_checks=[])

    services.customer_create(actor=users["sales1"], values={"name": "甲公司", "postcode": "51800"})

    assert Customer.objects.get().postcode == "51800"


# ---------------------------------------------------------------- the policy page


def test_policy_page_is_for_customer_settings_only(client, users):
    url = reverse("customer_duplicates:settings")
    client.force_login(users["manager"])  # all sales modules except settings
    assert client.get(url).status_code == 403

    client.force_login(users["administrator"])  # 管理员 holds customers.settings
    response = client.get(url)
    assert response.status_code == 200
    assert 'data-testid="customer-policy-form"' in response.content.decode()


POLICY_POST = {
    "duplicate_mode": "forbid",
    "duplicate_fields": ["name", "mobile"],
    "required_fields": ["phone"],
    "format_checks": ["mobile"],
    "protect_max_count": "5",
    "protect_max_days": "30",
    "protect_remind_days": "2",
}


def test_admin_saves_the_policy_and_it_is_logged(admin_client):
    response = admin_client.post(reverse("customer_duplicates:settings"), POLICY_POST)

    policy = CustomerPolicy.load()
    assert response.status_code == 302
    assert policy.duplicate_mode == "forbid"
    assert policy.duplicate_fields == ["name", "mobile"]
    assert policy.required_fields == ["phone"] and policy.format_checks == ["mobile"]
    assert (policy.protect_max_count, policy.protect_max_days, policy.protect_remind_days) == (5, 30, 2)
    assert OperationLog.objects.filter(action="customer_policy.updated").count() == 1


def test_unknown_policy_field_is_refused_and_nothing_changes(admin_client):
    response = admin_client.post(
        reverse("customer_duplicates:settings"), POLICY_POST | {"duplicate_fields": ["name", "bogus"]}
    )

    assert response.status_code == 400
    assert CustomerPolicy.load().duplicate_mode == "warn"
    assert not OperationLog.objects.filter(action="customer_policy.updated").exists()


def test_policy_reminder_must_be_shorter_than_the_protection(admin_client):
    response = admin_client.post(
        reverse("customer_duplicates:settings"),
        {
            "duplicate_mode": "warn",
            "protect_max_count": "5",
            "protect_max_days": "3",
            "protect_remind_days": "3",
        },
    )

    assert response.status_code == 400
    assert "提前提醒的天数应小于保护期限" in response.content.decode()
    assert CustomerPolicy.load().protect_max_days == 90


def test_migration_fills_name_key_for_existing_rows_in_batches(users, monkeypatch):
    from importlib import import_module

    from django.apps import apps

    migration = import_module("crm.customers.migrations.0005_duplicate_control")
    monkeypatch.setattr(migration, "BATCH", 2)
    for name in ("深圳市中兴通讯股份有限公司", "华为技术有限公司", "北京字节跳动科技有限公司"):
        make(users["sales1"], name)
    Customer.objects.update(name_key="")

    migration.fill_name_key(apps, None)

    assert sorted(Customer.objects.values_list("name_key", flat=True)) == [
        "中兴通讯",
        "华为技术",
        "字节跳动科技",
    ]
