"""Envelope templates: admin pages and the API, kept with customers.settings (CUS-17)."""

import pytest

from crm.audit.models import OperationLog
from crm.printing.models import EnvelopeTemplate
from crm.printing.tests.conftest import login

pytestmark = pytest.mark.django_db


def form_data(**changes):
    data = {
        "name": "C6 小信封",
        "paper": "C6",
        "width_mm": "",
        "height_mm": "",
        "sender_company": "深圳示例科技有限公司",
        "sender_name": "李娜",
        "sender_text": "{{公司名称}}\n{{寄件人}}",
        "sender_x": "90",
        "sender_y": "90",
        "sender_font_size": "9",
        "sender_font": "song",
        "recipient_text": "{{地址}}\n{{客户名称}}\n{{联系人}} 收",
        "recipient_x": "30",
        "recipient_y": "35",
        "recipient_font_size": "14",
        "recipient_font": "kai",
        "show_postcode": "on",
        "postcode_x": "12",
        "postcode_y": "10",
        "postcode_font_size": "14",
        "postcode_spacing": "4.5",
    }
    data.update(changes)
    return data


def test_admin_creates_edits_and_deletes_a_template(client, users, dl_template):
    login(client, users["admin"])
    assert client.get("/print/envelopes/").status_code == 200
    assert client.get("/print/envelopes/new/").status_code == 200
    response = client.post("/print/envelopes/new/", form_data())
    assert response.status_code == 302
    template = EnvelopeTemplate.objects.get(name="C6 小信封")
    assert (template.width_mm, template.height_mm) == (162, 114)  # the preset's size
    assert not template.is_default and EnvelopeTemplate.objects.get(is_default=True) == dl_template

    response = client.post(
        f"/print/envelopes/{template.pk}/edit/", form_data(is_default="on", recipient_x="40")
    )
    assert response.status_code == 302
    template.refresh_from_db()
    dl_template.refresh_from_db()
    assert template.is_default and not dl_template.is_default and template.recipient_x == 40

    assert client.post(f"/print/envelopes/{template.pk}/delete/").status_code == 302
    assert not EnvelopeTemplate.objects.filter(pk=template.pk).exists()
    assert EnvelopeTemplate.objects.get(is_default=True) == dl_template  # a default remains
    actions = set(OperationLog.objects.values_list("action", flat=True))
    assert {"envelope_template.created", "envelope_template.updated", "envelope_template.deleted"} <= actions


def test_unknown_placeholder_is_refused_with_a_clear_message(client, users, dl_template):
    login(client, users["admin"])
    response = client.post("/print/envelopes/new/", form_data(recipient_text="{{收件人}} {{客户名称}}"))
    assert response.status_code == 400
    assert "未知的占位符：{{收件人}}" in response.content.decode()
    assert not EnvelopeTemplate.objects.filter(name="C6 小信封").exists()


def test_custom_size_and_positions_are_checked(client, users, dl_template):
    login(client, users["admin"])
    response = client.post(
        "/print/envelopes/new/", form_data(paper="custom", width_mm="200", height_mm="100", recipient_x="250")
    )
    assert response.status_code == 400
    assert "收件人的 X 位置必须小于信封宽度 200 mm" in response.content.decode()
    response = client.post(
        "/print/envelopes/new/", form_data(paper="custom", width_mm="200", height_mm="120")
    )
    assert response.status_code == 302
    assert EnvelopeTemplate.objects.get(name="C6 小信封").width_mm == 200


def test_preview_draws_the_unsaved_template_with_a_sample_customer(client, users):
    login(client, users["admin"])
    response = client.post("/print/envelopes/preview/", form_data(recipient_text="<b>{{客户名称}}</b>"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "&lt;b&gt;深圳市华强电子有限公司&lt;/b&gt;" in html
    assert "width: 162mm; height: 114mm" in html
    html = client.post("/print/envelopes/preview/", form_data(recipient_text="{{乱写}}")).content.decode()
    assert "未知的占位符" in html


@pytest.mark.parametrize("who", ["manager", "sales1", "finance"])
def test_template_pages_need_customers_settings(client, users, dl_template, who):
    login(client, users[who])
    assert client.get("/print/envelopes/").status_code == 403
    assert client.post("/print/envelopes/new/", form_data()).status_code == 403
    assert client.post(f"/print/envelopes/{dl_template.pk}/delete/").status_code == 403
    assert client.post("/print/envelopes/preview/", form_data()).status_code == 403
    assert EnvelopeTemplate.objects.count() == 1


def test_navigation_entry_for_admins_only(client, users):
    login(client, users["admin"])
    assert 'href="/print/envelopes/"' in client.get("/customers/").content.decode()
    login(client, users["sales1"])
    assert 'href="/print/envelopes/"' not in client.get("/customers/").content.decode()


# ---------------------------------------------------------------- API


def api_data(**changes):
    data = {k: v for k, v in form_data().items() if v != ""}
    data["show_postcode"] = True
    data.update(changes)
    return data


def test_api_lists_for_printers_and_writes_for_admins(client, users, dl_template):
    login(client, users["sales1"])
    response = client.get("/api/v1/envelope-templates/")
    assert response.status_code == 200
    assert [row["name"] for row in response.json()["results"]] == ["标准 DL 信封"]
    assert client.get(f"/api/v1/envelope-templates/{dl_template.pk}/").json()["paper"] == "DL"
    assert (
        client.post("/api/v1/envelope-templates/", api_data(), content_type="application/json").status_code
        == 403
    )
    url = f"/api/v1/envelope-templates/{dl_template.pk}/"
    assert client.patch(url, {"name": "x"}, content_type="application/json").status_code == 403
    assert client.delete(url).status_code == 403

    login(client, users["norole"])
    assert client.get("/api/v1/envelope-templates/").status_code == 403

    login(client, users["admin"])
    response = client.post("/api/v1/envelope-templates/", api_data(), content_type="application/json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["width_mm"] == "162.0"
    patch = client.patch(
        f"/api/v1/envelope-templates/{created['id']}/",
        {"recipient_text": "{{未知}}"},
        content_type="application/json",
    )
    assert patch.status_code == 400 and "未知的占位符" in patch.content.decode()
    assert client.delete(f"/api/v1/envelope-templates/{created['id']}/").status_code == 204
    assert EnvelopeTemplate.objects.count() == 1


def test_api_refuses_unknown_fields(client, users):
    login(client, users["admin"])
    response = client.post(
        "/api/v1/envelope-templates/", api_data(colour="red"), content_type="application/json"
    )
    assert response.status_code == 400 and "colour" in response.json()
