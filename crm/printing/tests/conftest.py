import pytest

from crm.customers import services as customer_services
from crm.printing.models import EnvelopeTemplate


@pytest.fixture
def dl_template(db):
    """The default DL template of the data migration (recreated if a flush took it)."""
    from importlib import import_module

    from django.apps import apps

    import_module("crm.printing.migrations.0002_default_envelope").seed_default(apps)
    return EnvelopeTemplate.objects.get(is_default=True)


@pytest.fixture
def make_customer(users):
    def make(name="深圳市华强电子有限公司", owner="sales1", contacts=None, **values):
        return customer_services.customer_create(
            actor=users[owner], values={"name": name, **values}, contacts=contacts or []
        )

    return make


def login(client, user):
    client.force_login(user)
    return client


def restrict(user, rules: dict):
    """Replace the user's roles by a sales role carrying these field permissions (ORG-8)."""
    from crm.accounts.models import Role
    from crm.accounts.tests.factories import RoleFactory

    sales = Role.objects.get(code="sales")
    user.roles.set(
        [RoleFactory(data_scope=sales.data_scope, permissions=sales.permissions, field_permissions=rules)]
    )
    return user
