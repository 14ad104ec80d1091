"""The OpenAPI schema generates cleanly, and the docs page works offline (no CDN)."""

import re

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command
from rest_framework.test import APIClient

from crm.api.tests import clear_throttle, token_login

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttle():
    clear_throttle()


def test_schema_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yml"

    # --fail-on-warn turns any warning or error of drf-spectacular into an exception.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    schema = yaml.safe_load(target.read_text())
    assert schema["openapi"].startswith("3.")
    assert {
        "/api/v1/auth/token/",
        "/api/v1/users/",
        "/api/v1/users/{id}/",
        "/api/v1/users/{id}/disable/",
        "/api/v1/users/{id}/enable/",
        "/api/v1/users/me/",
        "/api/v1/departments/",
        "/api/v1/departments/{id}/",
        "/api/v1/roles/",
        "/api/v1/roles/{id}/",
    } <= set(schema["paths"])  # each app's own tests check its paths
    assert set(schema["paths"]["/api/v1/users/{id}/"]) == {"get", "patch"}  # never deleted, no PUT
    assert set(schema["paths"]["/api/v1/departments/{id}/"]) == {"get", "patch", "delete"}
    assert "security" not in schema["paths"]["/api/v1/auth/token/"]["post"]  # no token needed to get one
    assert schema["paths"]["/api/v1/users/"]["get"]["security"] == [{"tokenAuth": []}, {"cookieAuth": []}]
    assert "tokenAuth" in schema["components"]["securitySchemes"]


def test_schema_is_served(users):
    response = APIClient().get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    assert "/api/v1/users/" in response.json()["paths"]


def test_docs_page_uses_only_local_static_files():
    response = APIClient().get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r'<(?:script|link|img)\b[^>]*?\b(?:src|href)="([^"]+)"', html)
    assert any(s.endswith("swagger-ui-bundle.js") for s in sources)
    assert any(s.endswith("swagger-ui.css") for s in sources)
    for source in sources:
        assert source.startswith("/static/"), source
        assert finders.find(source.removeprefix("/static/")), f"missing static file {source}"
    assert "http://" not in html and "https://" not in html
    # Swagger UI's default validator badge would call validator.swagger.io.
    assert '"validatorUrl": null' in html
    assert '"/api/schema/"' in html


def test_api_root_lists_the_endpoints_for_a_token_holder(users):
    client = token_login("manager")

    response = client.get("/api/v1/")

    assert response.status_code == 200
    assert {"users", "departments", "roles"} <= set(response.json())
    assert APIClient().get("/api/v1/").status_code == 401
