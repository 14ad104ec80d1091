"""Shared fixtures: a user for each default role, on a small organisation tree."""

import pytest

from crm.accounts.tests.factories import DepartmentFactory, UserFactory


@pytest.fixture(autouse=True)
def _fast_and_immediate(settings):
    # argon2 is the production hasher (asserted in test_login_security); tests hash fast.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # Throttle counters live in the cache; one test's requests must not throttle the next, and
    # parallel test workers must not share a file cache.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def immediate_jobs():
    """Huey runs queued jobs at once, in the test's thread (and never touches the queue file)."""
    from huey.contrib.djhuey import HUEY

    previous = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = previous


@pytest.fixture(autouse=True)
def _rows_of_data_migrations(request):
    """A transactional test ends by flushing every table, which also removes what data migrations
    created (the root department, default roles, dictionaries, the default pool). Before each
    database test, put them back if a flush took them, so every test sees a migrated installation."""
    marker = request.node.get_closest_marker("django_db")
    names = request.fixturenames
    if marker is None and not any(n in names for n in ("db", "transactional_db", "live_server")):
        return
    transactional = (marker is not None and marker.kwargs.get("transaction")) or any(
        n in names for n in ("transactional_db", "live_server")
    )
    request.getfixturevalue("transactional_db" if transactional else "db")
    from crm.accounts.models import Department

    if not Department.objects.filter(parent__isnull=True).exists():
        from importlib import import_module

        from django.apps import apps

        from crm.accounts.defaults import ensure_default_roles, ensure_root_department
        from crm.accounts.models import Role

        ensure_root_department(Department)
        ensure_default_roles(Role)
        import_module("crm.customers.migrations.0002_search_indexes_and_defaults").seed_defaults(apps)


@pytest.fixture
def org(db):
    """办公室 → 销售中心 → (华南销售部 → 深圳组, 华东销售部); 财务部."""
    from crm.accounts.models import Department

    root = Department.objects.get(parent__isnull=True)
    sales = DepartmentFactory(name="销售中心", parent=root)
    south = DepartmentFactory(name="华南销售部", parent=sales)
    shenzhen = DepartmentFactory(name="深圳组", parent=south)
    east = DepartmentFactory(name="华东销售部", parent=sales)
    finance = DepartmentFactory(name="财务部", parent=root)
    return {
        "root": root,
        "sales": sales,
        "south": south,
        "shenzhen": shenzhen,
        "east": east,
        "finance": finance,
    }


@pytest.fixture
def users(org):
    """One active user per default role, wired like the demo company."""
    admin = UserFactory(username="admin", department=org["root"], roles=["super_admin"])
    manager = UserFactory(username="manager", department=org["sales"], roles=["sales_manager"])
    return {
        "admin": admin,
        "administrator": UserFactory(username="administrator", department=org["root"], roles=["admin"]),
        "manager": manager,
        "sales1": UserFactory(username="sales1", department=org["south"], manager=manager, roles=["sales"]),
        "sales2": UserFactory(username="sales2", department=org["east"], manager=manager, roles=["sales"]),
        "finance": UserFactory(username="finance", department=org["finance"], roles=["finance"]),
        "service": UserFactory(username="service", department=org["root"], roles=["service"]),
        "norole": UserFactory(username="norole", department=org["shenzhen"], roles=[]),
    }


@pytest.fixture
def admin_client(client, users):
    client.force_login(users["admin"])
    return client
