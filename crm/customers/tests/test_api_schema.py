"""The customer endpoints are in the OpenAPI schema, which still validates without warnings."""

import pytest
import yaml
from django.core.management import call_command

from crm.api.tests import clear_throttle, token_client, token_login

pytestmark = pytest.mark.django_db

CUSTOMER_PATHS = {
    "/api/v1/customers/",
    "/api/v1/customers/{id}/",
    "/api/v1/customers/{id}/unshare/",
    "/api/v1/customers/{id}/team/",
    "/api/v1/customers/transfer/",
    "/api/v1/customers/share/",
    "/api/v1/customers/release/",
    "/api/v1/customers/bulk-update/",
    "/api/v1/customers/recycle-bin/",
    "/api/v1/customers/recycle-bin/restore/",
    "/api/v1/customers/recycle-bin/purge/",
    "/api/v1/contacts/",
    "/api/v1/contacts/{id}/",
    "/api/v1/dictionaries/",
    "/api/v1/dictionaries/{id}/",
    "/api/v1/dictionaries/{id}/activate/",
    "/api/v1/dictionaries/{id}/deactivate/",
}


def test_customer_paths_validate_without_warnings(tmp_path):
    target = tmp_path / "schema.yml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    paths = yaml.safe_load(target.read_text())["paths"]
    assert CUSTOMER_PATHS <= set(paths)
    assert set(paths["/api/v1/customers/{id}/"]) == {"get", "patch", "delete"}  # no PUT
    assert set(paths["/api/v1/dictionaries/{id}/"]) == {"get", "patch"}  # deactivate, never delete
    names = {p["name"] for p in paths["/api/v1/customers/"]["get"]["parameters"]}
    assert {"q", "scope", "sort", "filter", "cursor"} <= names


def test_api_root_lists_the_customer_endpoints(users):
    clear_throttle()

    response = token_login("sales1").get("/api/v1/")

    assert {"customers", "contacts", "dictionaries"} <= set(response.json())


# Which roles may read each customer list endpoint (the default roles of crm/accounts/defaults.py).
READS = {
    "/api/v1/customers/": {"admin", "administrator", "manager", "sales1", "sales2", "finance", "service"},
    "/api/v1/contacts/": {"admin", "administrator", "manager", "sales1", "sales2", "finance", "service"},
    "/api/v1/dictionaries/": {"admin", "administrator", "manager", "sales1", "sales2", "finance", "service"},
    "/api/v1/customers/recycle-bin/": {"admin", "administrator", "manager"},
}


@pytest.mark.parametrize("path", sorted(READS))
def test_every_role_gets_what_its_permissions_allow(users, path):
    for role, user in users.items():
        response = token_client(user).get(path)
        assert response.status_code == (200 if role in READS[path] else 403), (role, response.content)
