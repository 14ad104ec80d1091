"""Printing (CUS-17) in a real browser: a manager ticks three customers in the list, chooses
打印信封, and Chromium's PDF of the page has exactly three pages (one envelope each)."""

import re
from pathlib import Path

import pytest

from tests.e2e.conftest import ADMIN_PASSWORD, USER_PASSWORD

pytestmark = pytest.mark.e2e

SHOTS = Path("/tmp/shots")
WIDE = {"width": 1400, "height": 900}


def pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_load_state("networkidle")
    page.evaluate("document.fonts.ready")
    # A viewport as tall as the page: fixed bars stay where they belong in the picture.
    height = page.evaluate("document.documentElement.scrollHeight")
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": min(max(height, size["height"]), 4000)})
    page.screenshot(path=str(SHOTS / f"printing_{name}.png"), full_page=True)
    page.set_viewport_size(size)


@pytest.fixture
def default_envelope(org_defaults):
    from importlib import import_module

    from django.apps import apps

    import_module("crm.printing.migrations.0002_default_envelope").seed_default(apps)


def test_manager_prints_envelopes_for_three_customers(page, make_user, ui, default_envelope):
    from crm.customers import services

    manager = make_user("manager", roles=["sales_manager"], name="王经理")
    for name, address, postcode in (
        ("深圳市华强电子有限公司", "广东省深圳市福田区华强北路1002号赛格广场18楼", "518031"),
        ("广州市天河贸易有限公司", "广东省广州市天河区天河路385号太古汇一座", "510620"),
        ("东莞市长安五金厂", "广东省东莞市长安镇振安中路368号", "523850"),
        ("佛山市顺德家电有限公司", "广东省佛山市顺德区大良街道", "528300"),
    ):
        services.customer_create(
            actor=manager,
            values={"name": name, "address": address, "postcode": postcode},
            contacts=[{"name": "张伟", "mobile": "13800000000"}],
        )
    page.set_viewport_size(WIDE)
    ui.login(page, "manager", USER_PASSWORD)
    page.goto("/customers/")
    boxes = page.locator("[data-testid=customer-row] input[name=ids]")
    for i in range(3):
        boxes.nth(i).check()
    with page.context.expect_page() as opened:
        page.click("[data-testid=bulk-print-envelopes]")
    envelopes = opened.value
    envelopes.wait_for_load_state()
    assert envelopes.locator("[data-testid=envelope]").count() == 3
    assert "收" in envelopes.locator("[data-testid=envelope-recipient]").first.inner_text()
    shot(envelopes, "envelopes")

    envelopes.emulate_media(media="print")
    pdf = envelopes.pdf(prefer_css_page_size=True, print_background=True)
    assert pdf_pages(pdf) == 3
    (SHOTS / "printing_envelopes.pdf").write_bytes(pdf)
    assert page.console_errors == []


def test_customer_print_view_and_template_editor(page, make_user, ui, default_envelope):
    from crm.activities import services as activity_services
    from crm.customers import services
    from crm.customers.models import DictionaryItem

    admin = make_user("admin", password=ADMIN_PASSWORD, roles=["super_admin"], name="系统管理员")
    customer = services.customer_create(
        actor=admin,
        values={
            "name": "深圳市华强电子有限公司",
            "address": "广东省深圳市福田区华强北路1002号",
            "postcode": "518031",
            "phone": "0755-83281234",
            "mobile": "13812345678",
            "remark": "年度框架协议客户，优先安排交付。",
        },
        contacts=[{"name": "张伟", "mobile": "13900001111", "title": "采购经理"}],
    )
    phone, _ = DictionaryItem.objects.get_or_create(kind="followup_type", name="电话", parent=None)
    for text in ("电话沟通了年度采购计划，客户关注交期。", "发送了报价单，等待回复。"):
        activity_services.followup_create(actor=admin, customer_id=customer.pk, type=phone, content=text)
    page.set_viewport_size(WIDE)
    ui.login(page, "admin", ADMIN_PASSWORD)

    page.goto(f"/customers/{customer.pk}/")
    with page.context.expect_page() as opened:
        page.click("[data-testid=print-customer]")
    sheet = opened.value
    sheet.wait_for_load_state()
    assert sheet.locator("[data-testid=print-followup]").count() == 2
    shot(sheet, "customer")
    sheet.emulate_media(media="print")
    assert not sheet.locator("[data-testid=print-toolbar]").is_visible()

    page.goto("/print/envelopes/")
    page.click("[data-testid=edit-envelope-template]")
    page.fill("#id_sender_company", "深圳示例科技有限公司")
    page.fill("#id_sender_name", "销售部 李娜 0755-88886666")
    page.keyboard.press("Tab")
    page.wait_for_selector("[data-testid=envelope-sender]:has-text('李娜')")
    page.wait_for_load_state("networkidle")
    shot(page, "template_editor")
    with page.expect_navigation():
        page.click("[data-testid=save-envelope-template]")
    assert "已保存信封模板" in ui.flash(page).inner_text()
    assert page.console_errors == []
