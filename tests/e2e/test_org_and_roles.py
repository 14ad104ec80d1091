"""Scenario 1: an admin builds a department, a custom role and a user; the user sees only what it allows."""

import re

import pytest
from playwright.sync_api import expect

from crm.access.registry import ALL_PERMISSIONS
from tests.e2e.conftest import ADMIN_PASSWORD

pytestmark = pytest.mark.e2e

DEPARTMENT = "华北销售部"
ROLE = "人事专员"
ROLE_PERMISSIONS = {"users.view", "departments.view"}
USERNAME = "zhangwei"
INITIAL_PASSWORD = "Init2024abc"
NEW_PASSWORD = "Mine2024xyz"


def expected_nav_keys(permissions) -> set[str]:
    from crm.core.navigation import NAVIGATION

    return {
        entry.key
        for section in NAVIGATION
        for entry in section.entries
        if entry.permission is None or entry.permission in permissions
    }


def test_admin_builds_org_and_new_user_sees_only_what_the_role_allows(page, admin_user, ui, screenshot):
    from crm.accounts.models import Department, Role, User

    ui.login(page, "admin", ADMIN_PASSWORD)
    expect(page).to_have_url(re.compile(r"/$"))
    assert ui.nav_keys(page) == expected_nav_keys(ALL_PERMISSIONS)  # the super admin sees everything

    # 部门与小组 → 新建部门, under 办公室.
    page.click("[data-nav=departments]")
    page.click("[data-testid=new-department]")
    expect(page.locator("h2.page-title")).to_have_text("新建部门")
    page.fill("#id_name", DEPARTMENT)
    page.select_option("#id_parent", label="办公室")
    page.click("button[type=submit]:has-text('保存')")
    expect(ui.flash(page)).to_contain_text(DEPARTMENT)
    expect(page.locator("[data-testid=department-tree]")).to_contain_text(DEPARTMENT)
    department = Department.objects.get(name=DEPARTMENT)
    assert department.parent.name == "办公室"

    # 角色权限 → 新建角色, ticking two cells of the permission matrix.
    page.click("[data-nav=roles]")
    page.click("[data-testid=new-role]")
    page.fill("#id_name", ROLE)
    page.fill("#id_description", "只看组织架构和员工")
    page.check("input[name=data_scope][value=department]")
    matrix = page.locator("[data-testid=permission-matrix]")
    for code in sorted(ROLE_PERMISSIONS):
        matrix.locator(f"input[name=permissions][value='{code}']").check()
    expect(matrix.locator("input[name=permissions]:checked")).to_have_count(len(ROLE_PERMISSIONS))
    page.click("button[type=submit]:has-text('保存')")
    expect(ui.flash(page)).to_contain_text(ROLE)
    expect(page.locator("table")).to_contain_text(ROLE)
    role = Role.objects.get(name=ROLE)
    assert set(role.permissions) == ROLE_PERMISSIONS
    assert role.data_scope == "department"

    # 员工 → 新建员工, in the new department with the new role.
    page.click("[data-nav=users]")
    page.click("[data-testid=new-user]")
    page.fill("#id_username", USERNAME)
    page.fill("#id_name", "张伟")
    page.fill("#id_email", "zhangwei@example.com")
    page.fill("#id_password", INITIAL_PASSWORD)
    page.select_option("#id_department", str(department.pk))
    page.locator("[data-testid=role-choices] label", has_text=ROLE).locator("input").check()
    page.click("[data-testid=user-form] button[type=submit]")
    expect(ui.flash(page)).to_contain_text("张伟")
    row = page.locator("[data-testid=user-table] tbody tr", has_text=USERNAME)
    expect(row).to_contain_text(DEPARTMENT)
    expect(row).to_contain_text(ROLE)
    user = User.objects.get(username=USERNAME)
    assert user.must_change_password
    assert [r.name for r in user.roles.all()] == [ROLE]

    ui.logout(page)
    expect(page).to_have_url(re.compile(r"/login/$"))

    # First login: the middleware forces the password change before anything else.
    ui.login(page, USERNAME, INITIAL_PASSWORD)
    expect(page).to_have_url(re.compile(r"/account/password/$"))
    # Exactly one notice: the bell must not paste the redirected password page into the top bar.
    expect(page.locator("[data-testid=must-change]")).to_have_count(1)
    expect(page.locator("[data-testid=must-change]")).to_be_visible()
    screenshot(page, "password-change")
    page.goto("/org/users/")
    expect(page).to_have_url(re.compile(r"/account/password/$"))
    page.fill("#id_old_password", INITIAL_PASSWORD)
    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD)
    with page.expect_navigation():
        page.click("form button[type=submit]:has-text('修改密码')")
    expect(page).to_have_url(re.compile(r"/$"))
    expect(ui.flash(page)).to_contain_text("密码已修改")
    user.refresh_from_db()
    assert not user.must_change_password

    # The left navigation shows exactly what the role allows.
    role_permissions = set(Role.objects.get(name=ROLE).permissions)
    assert (
        ui.nav_keys(page)
        == expected_nav_keys(role_permissions)
        == {"home", "messages", "reminders", "approvals", "departments", "users"}
    )

    # Allowed pages open, read-only: no create buttons without users.create / departments.create.
    page.click("[data-nav=users]")
    expect(page.locator("[data-testid=user-table]")).to_contain_text(USERNAME)
    expect(page.locator("[data-testid=new-user]")).to_have_count(0)
    page.click("[data-nav=departments]")
    expect(page.locator("[data-testid=department-tree]")).to_be_visible()
    expect(page.locator("[data-testid=new-department]")).to_have_count(0)

    assert not page.console_errors, page.console_errors

    # A page the role lacks answers 403.
    for url in ("/org/roles/", "/audit/", "/org/users/new/"):
        response = page.goto(url)
        assert response.status == 403, url
        expect(page.locator("body")).to_contain_text("403")
    screenshot(page, "forbidden")
