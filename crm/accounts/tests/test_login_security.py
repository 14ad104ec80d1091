from django.conf import settings
from django.test import Client

from crm.audit.models import OperationLog


def login(client, username, password="demo12345"):
    return client.post("/login/", {"username": username, "password": password})


def test_production_hasher_is_argon2():
    import crm.settings as production  # the test settings fixture swaps in a fast hasher

    assert production.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_login_with_username_or_email_is_audited(client, users):
    assert login(client, "sales1").status_code == 302
    client.logout()
    assert login(client, "SALES1@example.com").status_code == 302
    assert OperationLog.objects.filter(action="auth.login", actor=users["sales1"]).count() == 2


def test_failed_login_shows_message_and_is_audited(client, users):
    response = login(client, "sales1", "wrong-password")
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()
    log = OperationLog.objects.get(action="auth.login_failed")
    assert log.message == "sales1"
    assert log.ip_address == "127.0.0.1"


def test_five_failures_lock_the_account_for_fifteen_minutes(client, users):
    for _ in range(4):
        assert login(client, "sales1", "nope").status_code == 200
    response = login(client, "sales1", "nope")
    assert response.status_code == 429
    assert "锁定 15 分钟" in response.content.decode()
    # Even the right password is refused while locked, from any browser.
    other = Client()
    response = login(other, "sales1")
    assert response.status_code == 429
    assert "_auth_user_id" not in other.session
    assert OperationLog.objects.filter(action="auth.locked_out", message="sales1").exists()
    # Another account is not affected.
    assert login(Client(), "sales2").status_code == 302


def test_lockout_expires(client, users, settings):
    from datetime import timedelta

    from axes.models import AccessAttempt
    from django.utils import timezone

    for _ in range(5):
        login(client, "sales1", "nope")
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert login(Client(), "sales1").status_code == 302


def test_csrf_is_enforced(users):
    client = Client(enforce_csrf_checks=True)
    assert login(client, "sales1").status_code == 403


def test_security_headers_and_cookie_flags(client, users):
    response = client.get("/login/")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert settings.SESSION_COOKIE_HTTPONLY
    login(client, "sales1")
    assert client.cookies[settings.SESSION_COOKIE_NAME]["httponly"]


def test_password_rules(client, users):
    client.force_login(users["sales1"])
    for weak in ["short1", "12345678901", "abcdefghij", "password123"]:
        response = client.post(
            "/account/password/", {"old_password": "demo12345", "new_password1": weak, "new_password2": weak}
        )
        assert response.status_code == 200, weak
    users["sales1"].refresh_from_db()
    assert users["sales1"].check_password("demo12345")


def test_pages_need_login(client, db):
    response = client.get("/org/users/")
    assert response.status_code == 302
    assert response.url.startswith("/login/")


def test_lockout_counts_every_spelling_of_one_account(users):
    for login_name in ["sales1", "SALES1", "Sales1@Example.com", "sales1", "sales1@example.com"]:
        login(Client(), login_name, "nope")
    assert login(Client(), "sales1").status_code == 429
