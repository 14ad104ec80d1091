"""Envelope placeholders: an allow-list, replaced by a plain regex, values HTML-escaped."""

import pytest
from django.core.exceptions import ValidationError

from crm.printing.models import EnvelopeTemplate
from crm.printing.placeholders import substitute, unknown_placeholders, validate_placeholders
from crm.printing.selectors import envelope_for


def test_known_placeholders_are_replaced_and_lines_kept():
    html = substitute("{{地址}}\n{{ 客户名称 }} 收", {"地址": "深圳市福田区", "客户名称": "华强电子"})
    assert html == "深圳市福田区<br>华强电子 收"


def test_values_and_literal_text_are_html_escaped():
    html = substitute("<b>{{客户名称}}</b>", {"客户名称": "<script>alert(1)</script>"})
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.startswith("&lt;b&gt;")


def test_template_syntax_in_admin_text_is_not_evaluated():
    html = substitute("{% now 'Y' %}{{客户名称|upper}}{{request.user}}", {"客户名称": "abc"})
    assert "{% now &#x27;Y&#x27; %}" in html
    assert "{{客户名称|upper}}" in html and "{{request.user}}" in html


def test_missing_value_prints_empty():
    assert substitute("{{联系人}} 收", {}) == " 收"


def test_unknown_placeholders_are_listed_once():
    assert unknown_placeholders("{{姓名}}{{客户名称}}{{姓名}}{{公司}}") == ["姓名", "公司"]


def test_unknown_placeholder_is_a_clear_validation_error():
    with pytest.raises(ValidationError) as exc:
        validate_placeholders("{{收件人姓名}}")
    message = " ".join(exc.value.messages)
    assert "未知的占位符：{{收件人姓名}}" in message and "{{客户名称}}" in message


def test_sender_placeholders_come_from_the_template():
    template = EnvelopeTemplate(
        sender_company="<深圳某公司>",
        sender_name="李娜",
        sender_text="{{公司名称}} {{寄件人}}",
        recipient_text="x",
    )
    envelope = envelope_for(template, {"客户名称": "甲", "邮编": "518 000"})
    assert envelope.sender == "&lt;深圳某公司&gt; 李娜"
    assert envelope.postcode == "518000"


@pytest.mark.django_db
def test_model_refuses_unknown_placeholder_on_save_path(dl_template):
    dl_template.recipient_text = "{{客户}}"
    with pytest.raises(ValidationError) as exc:
        dl_template.full_clean()
    assert "recipient_text" in exc.value.message_dict
