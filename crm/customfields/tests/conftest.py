"""Definitions of every type, made through the service (as an admin would)."""

import pytest

from crm.customfields.services import customfield_create

EVERY_TYPE = [
    {"key": "note", "label": "备注说明", "field_type": "text", "searchable": True},
    {"key": "story", "label": "合作历史", "field_type": "long_text"},
    {"key": "headcount", "label": "员工人数", "field_type": "number", "searchable": True},
    {"key": "purchase", "label": "年采购额", "field_type": "money", "searchable": True, "show_in_list": True},
    {"key": "founded", "label": "成立日期", "field_type": "date", "searchable": True},
    {"key": "visited_at", "label": "拜访时间", "field_type": "datetime", "searchable": True},
    {
        "key": "intent",
        "label": "合作意向",
        "field_type": "choice",
        "options": ["强烈", "一般", "观望"],
        "searchable": True,
        "show_in_list": True,
    },
    {
        "key": "channels",
        "label": "采购渠道",
        "field_type": "multi_choice",
        "options": ["线上", "代理商", "直销"],
        "searchable": True,
    },
    {"key": "listed", "label": "是否上市", "field_type": "boolean", "searchable": True},
    {"key": "hotline", "label": "服务热线", "field_type": "phone", "searchable": True},
    {"key": "billing_email", "label": "开票邮箱", "field_type": "email"},
    {"key": "homepage", "label": "官网", "field_type": "url"},
    {"key": "sponsor", "label": "内部支持人", "field_type": "user", "searchable": True},
]


@pytest.fixture
def fields(users):
    """{key: CustomField} of one field of every type, for customers."""
    return {
        spec["key"]: customfield_create(actor=users["admin"], target="customers", values=spec)
        for spec in EVERY_TYPE
    }
