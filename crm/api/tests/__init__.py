"""Helpers shared by the API tests (plain functions; fixtures live in the repository's conftest.py)."""

from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

TOKEN_URL = "/api/v1/auth/token/"
PASSWORD = "demo12345"  # what UserFactory gives every user


def token_login(username: str, password: str = PASSWORD) -> APIClient:
    """A client authenticated the way an integration would: with a token from the token endpoint."""
    client = APIClient()
    response = client.post(TOKEN_URL, {"username": username, "password": password}, format="json")
    assert response.status_code == 200, response.content
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    return client


def token_client(user) -> APIClient:
    """A client with a personal API token created directly (each request loads the user afresh).

    Written straight to the table, not through the (audited) service, so that tests counting
    operation-log rows count only what they do."""
    import secrets

    from crm.api.models import APIToken, hash_secret

    secret = secrets.token_urlsafe(32)
    # Marked as just used: the once-a-minute "last used" UPDATE would otherwise add one query to
    # the first request only, and tests compare query counts between requests.
    APIToken.objects.create(
        user=user, name="test", prefix=secret[:8], key_hash=hash_secret(secret), last_used_at=timezone.now()
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


def clear_throttle() -> None:
    """The token endpoint is throttled per IP in the (process-wide) cache; tests start afresh."""
    cache.clear()


def errors_text(response) -> str:
    """Every message of an error response, flattened, to assert on wording."""

    def walk(value):
        if isinstance(value, dict):
            for item in value.values():
                yield from walk(item)
        elif isinstance(value, list):
            for item in value:
                yield from walk(item)
        else:
            yield str(value)

    return " ".join(walk(response.json()))
