"""/api/v1/customers/: protection (CUS-9), the duplicate check (CUS-7) and merging duplicates."""

import pytest

from crm.activities.models import FollowUp
from crm.api.tests import clear_throttle, errors_text, token_login
from crm.audit.models import OperationLog
from crm.customers import services
from crm.customers.models import Contact, Customer, DictionaryItem

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/"


@pytest.fixture(autouse=True)
def _fresh_throttle():
    clear_throttle()


def make(user, name, **values):
    return services.customer_create(actor=user, values={"name": name, **values}, allow_duplicates=True)


def test_owner_protects_and_cancels_protection_through_the_api(users):
    customer = make(users["sales1"], "深圳市甲科技有限公司")
    client = token_login("sales1")

    protected = client.post(f"{URL}{customer.pk}/protect/", {"days": 30}, format="json")
    assert protected.status_code == 200
    assert protected.json()["owner_id"] == users["sales1"].pk
    customer.refresh_from_db()
    assert customer.is_protected
    assert OperationLog.objects.filter(action="customer.protected", target_id=str(customer.pk)).exists()

    cancelled = client.post(f"{URL}{customer.pk}/unprotect/")
    assert cancelled.status_code == 200
    assert cancelled.json()["owner_id"] is None and cancelled.json()["pool_id"] is not None
    customer.refresh_from_db()
    assert customer.owner_id is None and customer.protected_until is None


@pytest.mark.parametrize("days", [0, -3, "abc", 100000])
def test_bad_protection_days_answer_400_and_change_nothing(users, days):
    customer = make(users["sales1"], "深圳市乙科技有限公司")
    response = token_login("sales1").post(f"{URL}{customer.pk}/protect/", {"days": days}, format="json")
    assert response.status_code == 400
    customer.refresh_from_db()
    assert customer.protected_until is None


def test_days_beyond_the_policy_are_refused_in_chinese(users):
    customer = make(users["sales1"], "深圳市丙科技有限公司")
    response = token_login("sales1").post(f"{URL}{customer.pk}/protect/", {"days": 3000}, format="json")
    assert response.status_code == 400
    assert "保护天数应在 1 到" in errors_text(response)
    customer.refresh_from_db()
    assert customer.protected_until is None


def test_protection_of_a_customer_out_of_scope_is_404_and_unchanged(users):
    customer = make(users["sales1"], "深圳市丁科技有限公司")
    client = token_login("sales2")
    assert client.post(f"{URL}{customer.pk}/protect/", {"days": 10}, format="json").status_code == 404
    assert client.post(f"{URL}{customer.pk}/unprotect/").status_code == 404
    customer.refresh_from_db()
    assert customer.protected_until is None and customer.owner_id == users["sales1"].pk


def test_duplicate_check_shows_only_name_and_owner(users):
    make(users["sales2"], "深圳市中兴通讯股份有限公司", mobile="13812345678", remark="机密备注")
    response = token_login("sales1").get(f"{URL}duplicates/", {"name": "中兴通讯有限公司"})

    assert response.status_code == 200
    [match] = response.json()
    assert match["name"] == "深圳市中兴通讯股份有限公司"
    assert match["owner_name"] == users["sales2"].display_name
    assert set(match) == {"name", "owner_name", "field", "field_label", "protected", "message"}
    assert "13812345678" not in response.content.decode() and "机密备注" not in response.content.decode()


def test_duplicate_check_needs_something_to_check_and_a_permission(users):
    assert token_login("sales1").get(f"{URL}duplicates/").status_code == 400
    assert "请至少填写一项" in errors_text(token_login("sales1").get(f"{URL}duplicates/", {"name": " "}))
    assert token_login("finance").get(f"{URL}duplicates/", {"name": "中兴"}).status_code == 403


def test_admin_merges_two_duplicates_and_everything_moves(users):
    level = DictionaryItem.objects.filter(kind="value_level").first()
    target = make(users["sales1"], "深圳市中兴通讯股份有限公司", phone="0755-1234567")
    source = make(users["sales2"], "中兴通讯有限公司", phone="0755-7654321", value_level=level)
    Contact.objects.create(customer=source, name="李四")
    followup_type = DictionaryItem.objects.filter(kind="followup_type").first()
    FollowUp.objects.create(customer=source, author=users["sales2"], type=followup_type, content="电话沟通")

    response = token_login("admin").post(
        f"{URL}merge/",
        {"target_id": target.pk, "source_id": source.pk, "take_from_source": ["phone", "value_level"]},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["id"] == target.pk
    target.refresh_from_db()
    assert target.phone == "0755-7654321" and target.value_level == level
    assert Contact.objects.filter(customer=target, name="李四").exists()
    assert FollowUp.objects.filter(customer=target, content="电话沟通").exists()
    assert not Customer.objects.filter(pk=source.pk, deleted_at__isnull=True).exists()


def test_merge_needs_the_settings_permission_and_valid_fields(users):
    target = make(users["sales1"], "深圳市甲乙科技有限公司")
    source = make(users["sales1"], "甲乙科技有限公司")
    before = list(Customer.objects.order_by("pk").values())

    refused = token_login("sales1").post(
        f"{URL}merge/", {"target_id": target.pk, "source_id": source.pk}, format="json"
    )
    bad_field = token_login("admin").post(
        f"{URL}merge/",
        {"target_id": target.pk, "source_id": source.pk, "take_from_source": ["owner"]},
        format="json",
    )
    same = token_login("admin").post(
        f"{URL}merge/", {"target_id": target.pk, "source_id": target.pk}, format="json"
    )

    assert refused.status_code == 403
    assert bad_field.status_code == 400
    assert same.status_code == 400 and "请选择两个不同的客户" in errors_text(same)
    assert list(Customer.objects.order_by("pk").values()) == before
