"""The API against its own OpenAPI schema (schemathesis, bounded budget).

By default: the customers and sales modules, the tokens and the token login, GET and POST (see
IN_SCOPE); with CRM_SCHEMATHESIS_ALL=1, every operation of the schema. Every operation gets a few
generated requests (valid and invalid), sent through the WSGI application as an administrator
holding a personal API token. Checks: no 5xx, the status code and content type are documented, and
the body matches the documented schema.

Budget: schemathesis' coverage cases (boundary and invalid values) plus 3 generated examples per
operation, derandomized (the same cases every run), no deadline; about 90 s on 2 idle cores. It runs
on SQLite only: the checks are about the API's contract, which does not depend on the database, and
CI runs the suite on both. The schema is generated in-process when the module is collected.
"""

import json
import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, settings

from crm.wsgi import application

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "sqlite", reason="the API contract run is budgeted once, on SQLite"
    ),
]


def _schema_dict() -> dict:
    document = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(document, renderer_context={}))


# The customers and sales modules (SYS-2), the tokens and the token login; reads and creates/actions
# (GET, POST). PATCH/PUT/DELETE are left out to keep the run within CI's budget (~90 s on 2 cores):
# they share their input serializers and services with POST, which the run covers.
IN_SCOPE = (
    r"^/api/v1/(customers|contacts|pool|leads|opportunities|quotes|contracts|payment-plans|receivables"
    r"|invoices|products|followups|tokens|auth)(/|$)"
)

schema = schemathesis.openapi.from_dict(_schema_dict())
if not os.environ.get("CRM_SCHEMATHESIS_ALL"):  # set it for the full run (every path and method)
    schema = schema.include(path_regex=IN_SCOPE, method=["GET", "POST"])
schema.app = application
# The coverage phase (boundary values, missing/invalid parameters) stays on; its probing of methods
# an operation does not have (405) is left out for time: the router answers those uniformly.
schema.config.phases.coverage.unexpected_methods = set()


def _checks():
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    return [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]


@pytest.fixture
def api_headers(users, settings):
    """An administrator's personal API token; no rate limit in the way of the run."""
    from crm.api.services import token_create

    settings.API_RATE_LIMIT = "100000/min"
    _token, secret = token_create(user=users["admin"], name="schemathesis")
    # Django's test client detaches these too: the request must not close the test's connection
    # (the whole test runs inside one transaction that is rolled back afterwards).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield {"Authorization": f"Bearer {secret}"}
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=3,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case, api_headers):
    case.call_and_validate(headers=api_headers, checks=_checks())
