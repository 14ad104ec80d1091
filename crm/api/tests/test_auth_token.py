"""POST /api/v1/auth/token/: username or e-mail + password → token; lock-out and audit like the login page."""

import pytest
from axes.models import AccessAttempt
from rest_framework.test import APIClient

from crm.api.models import APIToken, hash_secret
from crm.api.tests import PASSWORD, TOKEN_URL, clear_throttle, errors_text, token_login
from crm.audit.models import OperationLog

pytestmark = pytest.mark.django_db

LOCKED = "登录失败次数过多，该账号已被锁定 15 分钟"
WRONG = "用户名或密码不正确"


@pytest.fixture(autouse=True)
def _fresh_throttle():
    clear_throttle()
    yield
    clear_throttle()


def post_token(username, password, client=None, **extra):
    client = client or APIClient()
    return client.post(TOKEN_URL, {"username": username, "password": password}, format="json", **extra)


def test_username_and_password_give_a_token_that_authenticates(users):
    response = post_token("sales1", PASSWORD)

    assert response.status_code == 200
    key = response.json()["token"]
    token = APIToken.objects.get(key_hash=hash_secret(key))
    assert token.user == users["sales1"]
    assert token.name.startswith("API 登录 ")
    assert token.expires_at is not None
    assert not APIToken.objects.filter(key_hash=key).exists()  # the secret itself is never stored
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    me = client.get("/api/v1/users/me/")
    assert me.status_code == 200
    assert me.json()["username"] == "sales1"
    log = OperationLog.objects.get(action="auth.token_issued")
    assert log.actor == users["sales1"]
    assert log.target_id == str(users["sales1"].pk)
    assert log.ip_address == "127.0.0.1"


def test_email_login_is_case_insensitive_and_each_login_issues_its_own_expiring_token(users, settings):
    settings.API_LOGIN_TOKEN_DAYS = 7
    first = post_token("Sales1@Example.com", PASSWORD)
    second = post_token("SALES1", PASSWORD)

    assert first.status_code == 200 and second.status_code == 200
    assert first.json()["token"] != second.json()["token"]
    tokens = APIToken.objects.filter(user=users["sales1"])
    assert tokens.count() == 2
    for token in tokens:
        lifetime = token.expires_at - token.created_at
        assert 6.99 < lifetime.total_seconds() / 86400 <= 7
    assert OperationLog.objects.filter(action="auth.token_issued", actor=users["sales1"]).count() == 2


def test_token_login_needs_no_csrf_token(users):
    response = post_token("sales1", PASSWORD, client=APIClient(enforce_csrf_checks=True))
    assert response.status_code == 200


@pytest.mark.parametrize("username", ["sales1", "nobody"])
def test_wrong_password_or_unknown_user_is_400_with_message_and_logged(users, username):
    response = post_token(username, "wrong-password1")

    assert response.status_code == 400
    assert WRONG in response.json()["detail"]
    assert not APIToken.objects.exists()
    assert not OperationLog.objects.filter(action="auth.token_issued").exists()
    failed = OperationLog.objects.get(action="auth.login_failed")
    assert failed.message == username
    assert failed.actor is None


def test_disabled_user_gets_no_token(users):
    users["sales1"].is_active = False
    users["sales1"].save()

    response = post_token("sales1", PASSWORD)

    assert response.status_code == 400
    assert WRONG in response.json()["detail"]
    assert not APIToken.objects.exists()
    assert OperationLog.objects.filter(action="auth.login_failed").count() == 1


def test_token_of_a_disabled_user_stops_working(users):
    client = token_login("sales1")
    users["sales1"].is_active = False
    users["sales1"].save()

    assert client.get("/api/v1/users/me/").status_code == 401


def test_five_failures_lock_the_username_even_for_the_right_password(users):
    statuses = [post_token("sales1", f"wrong-password{i}").status_code for i in range(5)]

    assert statuses == [400, 400, 400, 400, 429]
    response = post_token("sales1", PASSWORD)
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert LOCKED in response.json()["detail"]
    assert not APIToken.objects.exists()
    assert OperationLog.objects.filter(action="auth.locked_out", message="sales1").exists()
    # Other usernames from the same office IP are not locked.
    assert post_token("sales2", PASSWORD).status_code == 200


def test_success_forgives_earlier_failures(users):
    for i in range(4):
        assert post_token("sales1", f"wrong-password{i}").status_code == 400
    assert post_token("sales1", PASSWORD).status_code == 200
    assert not AccessAttempt.objects.filter(username="sales1").exists()

    for i in range(4):
        assert post_token("sales1", f"wrong-password{i}").status_code == 400
    assert post_token("sales1", PASSWORD).status_code == 200


def test_missing_and_unknown_fields_are_rejected(users):
    client = APIClient()
    missing = client.post(TOKEN_URL, {"username": "sales1"}, format="json")
    unknown = client.post(
        TOKEN_URL, {"username": "sales1", "password": PASSWORD, "remember": True}, format="json"
    )

    assert missing.status_code == 400
    assert "该字段是必填项" in missing.json()["password"][0]
    assert unknown.status_code == 400
    assert unknown.json() == {"remember": ["未知字段。"]}
    assert not APIToken.objects.exists()
    assert not OperationLog.objects.filter(action__startswith="auth.").exists()


def test_api_rejects_missing_or_bad_tokens(users):
    client = APIClient()
    assert client.get("/api/v1/users/me/").status_code == 401
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = client.get("/api/v1/users/me/")
    assert response.status_code == 401
    assert errors_text(response)  # a message, not an empty body


def test_token_endpoint_is_throttled_per_ip(users):
    # Distinct usernames: no lock-out involved, only the per-IP rate (30 a minute).
    responses = [post_token(f"nobody{i}", "wrong-password1") for i in range(31)]

    assert {r.status_code for r in responses[:30]} == {400}
    assert responses[30].status_code == 429
    assert LOCKED not in responses[30].json()["detail"]
    assert post_token("sales1", PASSWORD, REMOTE_ADDR="10.0.0.8").status_code == 200
