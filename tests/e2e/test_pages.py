"""Every main page opens for the super admin without errors, and is captured for visual review.

Screenshots go to test-artifacts/screenshots/<name>.png (git-ignored).
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.conftest import ADMIN_PASSWORD

pytestmark = pytest.mark.e2e

PAGES = [
    # (screenshot name, url, text the page must show)
    ("home", "/", "您好，系统管理员"),
    ("departments", "/org/departments/", "组织架构"),
    ("users", "/org/users/", "共 6 名员工"),
    ("user-form", "/org/users/new/", "初始密码"),
    ("roles", "/org/roles/", "超级管理员"),
    ("role-form", None, "操作权限"),
    ("messages", "/messages/", "合同待审批"),
    ("reminders", "/messages/reminders/", "周会准备材料"),
    ("auditlog", "/audit/", "登录"),
    ("profile", "/account/profile/", "admin"),
]


def assert_choices_on_one_line(inputs):
    """Each radio/checkbox is a styled form-check-input on the same line as its label."""
    assert inputs.count() > 1
    for box in inputs.all():
        assert "form-check-input" in box.get_attribute("class")
        label = box.locator("xpath=..").bounding_box()
        assert label["height"] < 2 * box.bounding_box()["height"], label


@pytest.fixture
def company(admin_user, make_user):
    """A small company so that the pages have something to show."""
    from crm.accounts import services
    from crm.accounts.models import Role
    from crm.messaging.services import notification_send, reminder_create

    root = admin_user.department
    sales = services.department_create(actor=admin_user, name="销售中心", parent=root)
    south = services.department_create(actor=admin_user, name="华南销售部", parent=sales)
    services.department_create(actor=admin_user, name="华东销售部", parent=sales)
    finance = services.department_create(actor=admin_user, name="财务部", parent=root)
    manager = make_user(
        "liuqiang", name="刘强", roles=["sales_manager"], department=sales, position="销售总监"
    )
    make_user(
        "chenjing", name="陈静", roles=["sales"], department=south, manager=manager, position="销售代表"
    )
    make_user("huangmin", name="黄敏", roles=["sales"], department=south, manager=manager)
    make_user("zhouyan", name="周燕", roles=["finance"], department=finance, position="会计")
    make_user("sunhao", name="孙浩", roles=["service"], department=root)
    services.team_save(
        actor=admin_user, team=None, name="深圳大客户组", department=south, leader=manager, members=[manager]
    )
    for title in ("合同待审批：华为云采购项目", "回款提醒：深圳某科技有限公司", "系统通知：本周五晚间维护"):
        notification_send(recipient=admin_user, title=title, body=f"{title}。请及时处理，谢谢。")
    reminder_create(
        owner=admin_user,
        title="周会准备材料",
        remind_at=timezone.now() + timedelta(hours=3),
        note="整理本周销售数据",
    )
    return {"sales_role": Role.objects.get(code="sales")}


def test_main_pages_render_and_are_captured(page, company, ui, screenshot):
    failed = []
    page.on("response", lambda r: r.status >= 400 and failed.append(f"{r.status} {r.url}"))
    ui.login(page, "admin", ADMIN_PASSWORD)
    expect(page.locator("[data-testid=unread-count]")).to_have_text("3")

    for name, url, text in PAGES:
        url = url or f"/org/roles/{company['sales_role'].pk}/edit/"
        response = page.goto(url)
        assert response.status == 200, url
        expect(page.locator("[data-testid=bell]")).to_be_attached()
        expect(page.locator(".page-wrapper")).to_contain_text(text)
        # Tabler's stylesheet is served and applied.
        assert page.evaluate("getComputedStyle(document.querySelector('.page')).display") == "flex", url
        screenshot(page, name)

    # The role screen shows the role's permissions ticked in the matrix and its data scope chosen.
    page.goto(f"/org/roles/{company['sales_role'].pk}/edit/")
    matrix = page.locator("[data-testid=permission-matrix]")
    expect(matrix.locator("input[value='customers.view']")).to_be_checked()
    expect(matrix.locator("input[value='roles.view']")).not_to_be_checked()
    expect(page.locator("input[name=data_scope][value=self]")).to_be_checked()
    assert_choices_on_one_line(page.locator("input[name=data_scope]"))

    # Role choices on the user form are Tabler checkboxes beside their labels.
    page.goto("/org/users/new/")
    assert_choices_on_one_line(page.locator("[data-testid=role-choices] input"))

    # The unread badge sits inside the top bar and its number is readable (white on red).
    badge = page.locator("[data-testid=unread-count]")
    box = badge.bounding_box()
    assert box["y"] >= 0 and box["height"] > 0, box
    color = badge.evaluate("b => getComputedStyle(b).color")
    assert all(int(c) > 220 for c in color[4:-1].split(",")), color

    # Exactly one navigation entry is highlighted, the deepest match (我的提醒 lives under /messages/).
    page.goto("/messages/reminders/")
    active = page.locator("[data-testid=main-nav] a.active")
    expect(active).to_have_count(1)
    expect(active).to_have_attribute("data-nav", "reminders")

    assert not failed, failed
    assert not page.console_errors, page.console_errors


def test_login_page_shows_the_product_name(page):
    # Django's LoginView context carries its own site_name (the request host); the product name must win.
    page.goto("/login/")
    expect(page.locator("[data-testid=brand]")).to_have_text("客户关系管理系统")
    assert page.title().endswith("客户关系管理系统")
