"""Every page with every role: the status the role's permissions call for, and bounded queries."""

from unittest import mock

import pytest
from django.db.utils import OperationalError

from crm.access import policy
from crm.accounts.models import User
from crm.accounts.tests.factories import UserFactory
from crm.audit.services import log_action
from crm.messaging.services import notification_send

ROLE_USERS = ["admin", "administrator", "manager", "sales1", "finance", "service", "norole"]


def pages(org, users):
    """(url, permission needed or None for any signed-in user)."""
    team_dept = org["south"]
    return [
        ("/", None),
        ("/messages/", None),
        ("/messages/reminders/", None),
        ("/account/profile/", None),
        ("/account/password/", None),
        ("/search/?q=sales", None),
        ("/org/departments/", "departments.view"),
        (f"/org/departments/?department={team_dept.pk}", "departments.view"),
        ("/org/departments/new/", "departments.create"),
        (f"/org/departments/{team_dept.pk}/edit/", "departments.edit"),
        ("/org/teams/new/", "departments.create"),
        ("/org/users/", "users.view"),
        ("/org/users/new/", "users.create"),
        ("/org/users/import/", "users.import"),
        ("/org/users/import/template.xlsx", "users.import"),
        ("/org/roles/", "roles.view"),
        ("/org/roles/new/", "roles.create"),
        ("/audit/", "auditlog.view"),
    ]


@pytest.mark.parametrize("username", ROLE_USERS)
def test_every_page_answers_as_the_role_allows(client, org, users, username):
    user = users[username]
    client.force_login(user)
    fresh = User.objects.get(pk=user.pk)
    for url, permission in pages(org, users):
        expected = 200 if permission is None or policy.can(fresh, permission) else 403
        assert client.get(url).status_code == expected, (username, url)


@pytest.mark.parametrize("username", ROLE_USERS)
def test_navigation_shows_exactly_what_the_role_allows(client, users, username):
    from crm.core.navigation import NAVIGATION

    client.force_login(users[username])
    page = client.get("/").content.decode()
    fresh = User.objects.get(pk=users[username].pk)
    for section in NAVIGATION:
        for entry in section.entries:
            shown = f'data-nav="{entry.key}"' in page
            assert shown == (entry.permission is None or policy.can(fresh, entry.permission)), entry.key


def test_anonymous_is_sent_to_login(client, db):
    for url in ["/", "/org/users/", "/audit/", "/messages/"]:
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/login/")


@pytest.fixture
def many_rows(org, users):
    """Enough rows that a per-row query would show in the counts."""
    for i in range(40):
        extra = UserFactory(
            username=f"many{i}", department=org["south"], manager=users["manager"], roles=["sales"]
        )
        notification_send(recipient=users["admin"], title=f"消息{i}")
        log_action(actor=extra, action="user.created", target=extra, changes={"name": [None, extra.name]})
    return users


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/org/users/",
        "/org/departments/",
        "/org/roles/",
        "/audit/",
        "/messages/",
        "/messages/reminders/",
        "/messages/bell/",
    ],
)
def test_pages_issue_at_most_15_queries(client, many_rows, url, django_assert_max_num_queries):
    client.force_login(many_rows["admin"])
    with django_assert_max_num_queries(15):
        assert client.get(url).status_code == 200


def test_audit_log_pages_with_a_cursor(admin_client, many_rows):
    first = admin_client.get("/audit/").content.decode()
    assert "更早的记录" not in first  # fewer than a page
    for i in range(60):
        log_action(actor=many_rows["admin"], action="auth.login", message=f"extra{i}")
    page = admin_client.get("/audit/").content.decode()
    assert "更早的记录" in page
    cursor = page.split("cursor=")[1].split('"')[0].replace("&amp;", "&")
    older = admin_client.get(f"/audit/?cursor={cursor}")
    assert older.status_code == 200
    assert admin_client.get("/audit/?cursor=garbage").status_code == 200


def test_healthz_ok(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_reports_an_unreachable_database(client, db):
    with mock.patch("crm.core.views.connection.cursor", side_effect=OperationalError("connection refused")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


def test_user_text_is_escaped(admin_client, users):
    users["sales1"].name = "<script>alert(1)</script>"
    users["sales1"].save()
    page = admin_client.get("/org/users/").content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_unknown_page_is_a_friendly_404(admin_client):
    response = admin_client.get("/no-such-page/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


def test_htmx_fragment_redirect_becomes_hx_redirect(client, db):
    response = client.get("/messages/bell/", headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith("/login/")


def test_only_the_closest_navigation_entry_is_active(client, users):
    client.force_login(users["admin"])
    page = client.get("/messages/reminders/").content.decode()
    assert page.count('nav-link active" href="/messages/reminders/"') == 1
    assert 'nav-link active" href="/messages/"' not in page


def test_audit_log_shows_field_labels_and_old_and_new_values(admin_client, users, org):
    from crm.accounts import services

    services.team_save(
        actor=users["admin"],
        team=None,
        name="攻坚组",
        department=org["south"],
        leader=users["sales1"],
        members=[users["sales1"], users["sales2"]],
    )
    page = admin_client.get("/audit/").content.decode()
    assert "组长</span>：∅ → " in page
    assert "成员</span>：∅ → " in page
