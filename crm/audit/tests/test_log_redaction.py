"""The operation log page follows field permissions (ORG-8): hidden values are left out and
masked ones masked, as in lists; super admins read everything."""

import pytest

from crm.accounts.tests.factories import RoleFactory, UserFactory
from crm.customers import services

pytestmark = pytest.mark.django_db


def test_log_page_masks_and_hides_customer_values_for_restricted_readers(client, users, org):
    services.customer_create(
        actor=users["sales1"],
        values={"name": "深圳市日志脱敏科技有限公司", "mobile": "13812345678", "remark": "机密备注"},
    )
    auditor = UserFactory(
        department=org["root"],
        roles=[
            RoleFactory(
                data_scope="all",
                permissions=["auditlog.view"],
                field_permissions={"customers.mobile": "mask", "customers.remark": "hidden"},
            )
        ],
    )
    client.force_login(auditor)
    page = client.get("/audit/").content.decode()
    assert "深圳市日志脱敏科技有限公司" in page
    assert "138****5678" in page and "13812345678" not in page
    assert "机密备注" not in page

    client.force_login(users["admin"])
    page = client.get("/audit/").content.decode()
    assert "13812345678" in page and "机密备注" in page
