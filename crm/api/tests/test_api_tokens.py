"""Personal API tokens: created with the secret shown once and stored hashed; Bearer/Token auth;
revoked, expired and disabled → 401; last use recorded at most once a minute; own tokens only."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from crm.api.models import APIToken, hash_secret
from crm.api.services import token_create, token_revoke
from crm.audit.models import OperationLog

pytestmark = pytest.mark.django_db

ME = "/api/v1/users/me/"
TOKENS = "/api/v1/tokens/"


def client_with(secret, keyword="Bearer"):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{keyword} {secret}")
    return client


def test_create_returns_the_secret_once_and_stores_only_its_hash(users):
    token, secret = token_create(user=users["sales1"], name="ERP 同步")

    assert len(secret) >= 40
    token.refresh_from_db()
    assert token.key_hash == hash_secret(secret)
    assert token.prefix == secret[:8]
    stored = APIToken.objects.filter(pk=token.pk).values().get()
    assert secret not in {str(v) for v in stored.values()}
    log = OperationLog.objects.get(action="api_token.created")
    assert log.actor == users["sales1"] and secret not in str(log.changes)


@pytest.mark.parametrize("keyword", ["Bearer", "Token", "bearer"])
def test_bearer_and_token_headers_authenticate_as_the_tokens_user(users, keyword):
    _token, secret = token_create(user=users["sales1"], name="a")

    response = client_with(secret, keyword).get(ME)

    assert response.status_code == 200
    assert response.json()["username"] == "sales1"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("revoke", "API 令牌已被撤销。"),
        ("expire", "API 令牌已过期"),
        ("disable", "该账号已停用，令牌不可用。"),
        ("wrong", "API 令牌无效。"),
    ],
)
def test_refused_tokens_answer_401_with_a_clear_message(users, change, message):
    token, secret = token_create(user=users["sales1"], name="a")
    if change == "revoke":
        token_revoke(user=users["sales1"], token_id=token.pk)
    elif change == "expire":
        APIToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    elif change == "disable":
        users["sales1"].is_active = False
        users["sales1"].save(update_fields=["is_active"])
    else:
        secret = secret[:-1] + ("A" if secret[-1] != "A" else "B")

    response = client_with(secret).get(ME)

    assert response.status_code == 401
    assert message in response.json()["detail"]
    assert response.has_header("WWW-Authenticate")


def test_a_token_with_a_future_expiry_works(users):
    _token, secret = token_create(
        user=users["sales1"], name="a", expires_at=timezone.now() + timedelta(days=1)
    )
    assert client_with(secret).get(ME).status_code == 200


def test_last_use_is_recorded_but_not_on_every_request(users, django_assert_num_queries):
    token, secret = token_create(user=users["sales1"], name="a")
    client = client_with(secret)

    client.get(ME, REMOTE_ADDR="10.1.2.3")
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None and token.last_used_ip == "10.1.2.3"

    client.get(ME, REMOTE_ADDR="10.9.9.9")
    token.refresh_from_db()
    assert token.last_used_at == first and token.last_used_ip == "10.1.2.3"  # within the minute

    APIToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - timedelta(minutes=2))
    client.get(ME, REMOTE_ADDR="10.9.9.9")
    token.refresh_from_db()
    assert token.last_used_at > first and token.last_used_ip == "10.9.9.9"


def test_no_write_for_a_request_within_the_minute(users):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _token, secret = token_create(user=users["sales1"], name="a")
    client = client_with(secret)
    client.get(ME)

    with CaptureQueriesContext(connection) as queries:
        client.get(ME)

    assert not [
        q for q in queries.captured_queries if q["sql"].startswith("UPDATE") and "api_apitoken" in q["sql"]
    ]


# ---------------------------------------------------------------- data scope


def test_a_salespersons_token_does_not_see_a_managers_customer(users):
    from crm.customers.services import customer_create

    theirs = customer_create(actor=users["manager"], values={"name": "经理的客户"})
    mine = customer_create(actor=users["sales1"], values={"name": "我的客户"})
    _token, secret = token_create(user=users["sales1"], name="a")
    client = client_with(secret)

    assert client.get(f"/api/v1/customers/{theirs.pk}/").status_code == 404
    assert client.get(f"/api/v1/customers/{mine.pk}/").status_code == 200
    ids = {row["id"] for row in client.get("/api/v1/customers/").json()["results"]}
    assert mine.pk in ids and theirs.pk not in ids


def test_a_token_has_its_users_operation_permissions(users):
    _token, secret = token_create(user=users["sales1"], name="a")
    # A salesperson may not manage roles; the token does not change that.
    assert client_with(secret).get("/api/v1/roles/").status_code == 403


# ---------------------------------------------------------------- /api/v1/tokens/


def test_token_endpoints_manage_only_the_callers_tokens(users):
    other, _secret = token_create(user=users["sales2"], name="别人的")
    _token, secret = token_create(user=users["sales1"], name="我的")
    client = client_with(secret)

    created = client.post(TOKENS, {"name": "脚本", "rate_limit": "30/min"}, format="json")
    assert created.status_code == 201
    body = created.json()
    assert body["token"] and body["prefix"] == body["token"][:8] and body["status"] == "active"
    assert APIToken.objects.get(pk=body["id"]).key_hash == hash_secret(body["token"])

    listed = client.get(TOKENS).json()["results"]
    assert {row["name"] for row in listed} == {"我的", "脚本"}
    assert all("token" not in row and "key_hash" not in row for row in listed)

    assert client.get(f"{TOKENS}{other.pk}/").status_code == 404
    assert client.delete(f"{TOKENS}{other.pk}/").status_code == 404
    other.refresh_from_db()
    assert other.revoked_at is None

    assert client.delete(f"{TOKENS}{body['id']}/").status_code == 204
    assert client.get(f"{TOKENS}{body['id']}/").json()["status"] == "revoked"
    assert client_with(body["token"]).get(ME).status_code == 401
    assert OperationLog.objects.filter(action="api_token.revoked", actor=users["sales1"]).count() == 1


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": ""}, "name", "不能为空"),
        ({"name": "x", "expires_at": "2000-01-01T00:00:00Z"}, "expires_at", "过期时间必须晚于现在。"),
        ({"name": "x", "rate_limit": "lots"}, "rate_limit", "频率限制格式"),
        ({"name": "x", "secret": "mine"}, "secret", "未知字段。"),
    ],
)
def test_bad_token_input_is_rejected_and_creates_nothing(users, data, field, message):
    _token, secret = token_create(user=users["sales1"], name="a")
    before = APIToken.objects.count()

    response = client_with(secret).post(TOKENS, data, format="json")

    assert response.status_code == 400
    assert message in " ".join(response.json()[field])
    assert APIToken.objects.count() == before


# ---------------------------------------------------------------- rate limit


def test_a_token_is_throttled_with_429_and_retry_after(users, settings):
    settings.API_RATE_LIMIT = "3/min"
    _token, secret = token_create(user=users["sales1"], name="a")
    _other, other_secret = token_create(user=users["sales1"], name="b")
    client = client_with(secret)

    statuses = [client.get(ME).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    response = client.get(ME)
    assert response.status_code == 429
    assert "请求过于频繁" in response.json()["detail"]
    assert 1 <= int(response["Retry-After"]) <= 60
    # The limit is per token: the same user's other token still works.
    assert client_with(other_secret).get(ME).status_code == 200


def test_a_tokens_own_rate_limit_overrides_the_default(users, settings):
    settings.API_RATE_LIMIT = "100/min"
    _token, secret = token_create(user=users["sales1"], name="a", rate_limit="2/min")
    client = client_with(secret)

    assert [client.get(ME).status_code for _ in range(3)] == [200, 200, 429]


def test_session_calls_are_throttled_per_user(users, settings):
    settings.API_RATE_LIMIT = "2/min"
    client = APIClient()
    client.force_login(users["sales1"])

    assert [client.get(ME).status_code for _ in range(3)] == [200, 200, 429]


def test_at_most_fifty_active_tokens_by_hand(users):
    from django.core.exceptions import ValidationError

    from crm.api.services import MAX_ACTIVE_TOKENS

    APIToken.objects.bulk_create(
        APIToken(user=users["sales1"], name=f"t{i}", prefix="x", key_hash=f"{i:064d}")
        for i in range(MAX_ACTIVE_TOKENS)
    )

    with pytest.raises(ValidationError, match="上限"):
        token_create(user=users["sales1"], name="one too many")
    assert APIToken.objects.count() == MAX_ACTIVE_TOKENS


def test_dates_outside_the_supported_years_are_rejected_not_stored(users):
    # Found by schemathesis: year 404 came back with Shanghai's local mean time offset (+08:05:43).
    from crm.api.tests import token_client
    from crm.leads.models import Lead

    response = token_client(users["admin"]).post(
        "/api/v1/leads/", {"company": "某公司", "next_contact_at": "0404-11-26T08:33:21Z"}, format="json"
    )

    assert response.status_code == 400
    assert "日期超出范围" in response.json()["next_contact_at"][0]
    assert not Lead.objects.exists()


def test_unknown_api_urls_answer_json_404_and_a_missing_slash_redirects(users):
    from crm.api.tests import token_client

    client = token_client(users["admin"])

    missing = client.post("/api/v1/customers/1.5/protect/", {}, format="json")
    assert missing.status_code == 404 and missing["Content-Type"] == "application/json"
    assert missing.json()["detail"]
    redirect = client.get("/api/v1/customers?q=x")
    assert redirect.status_code == 301 and redirect["Location"].endswith("/api/v1/customers/?q=x")
