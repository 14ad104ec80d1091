"""Tokens issued by DRF's authtoken app before the upgrade keep working, now stored hashed."""

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from rest_framework.test import APIClient

from crm.api.models import APIToken, hash_secret

pytestmark = pytest.mark.django_db

migration = importlib.import_module("crm.api.migrations.0002_import_drf_tokens")


def test_old_drf_tokens_are_imported_hashed_and_authenticate(users):
    key = "0123456789abcdef0123456789abcdef01234567"
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, user_id integer, created timestamp)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token (key, user_id, created) VALUES (%s, %s, CURRENT_TIMESTAMP)",
            [key, users["sales1"].pk],
        )
    migration.import_drf_tokens(apps, SimpleNamespace(connection=connection))  # only .connection is used

    token = APIToken.objects.get(user=users["sales1"])
    assert token.key_hash == hash_secret(key) and token.prefix == key[:8]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/users/me/").json()["username"] == "sales1"
