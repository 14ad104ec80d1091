"""The left navigation. Each entry names the permission that shows it; modules add their entries."""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from crm.access import policy


@dataclass(frozen=True)
class NavEntry:
    key: str
    label: Promise
    icon: str  # a Tabler icon name (ti ti-<icon>)
    url_name: str
    permission: str | None = None  # None: every signed-in user


@dataclass(frozen=True)
class NavSection:
    label: Promise | None
    entries: tuple[NavEntry, ...]


NAVIGATION: list[NavSection] = [
    NavSection(
        None,
        (
            NavEntry("home", _("首页"), "home", "home"),
            NavEntry("messages", _("消息中心"), "bell", "messaging:list"),
            NavEntry("reminders", _("我的提醒"), "alarm", "messaging:reminders"),
            NavEntry("approvals", _("我的审批"), "checklist", "approvals:mine"),
        ),
    ),
    NavSection(
        _("客户"),
        (
            NavEntry("customers", _("客户列表"), "building-store", "customers:list", "customers.view"),
            NavEntry("leads", _("线索"), "target-arrow", "leads:list", "leads.view"),
            NavEntry("opportunities", _("商机"), "briefcase", "opportunities:kanban", "opportunities.view"),
            NavEntry("quotes", _("报价"), "file-invoice", "quotes:list", "quotes.view"),
            NavEntry("pool", _("公海"), "lifebuoy", "pool:list", "pool.view"),
            NavEntry("followups", _("跟进记录"), "message-dots", "activities:list", "activities.view"),
            NavEntry(
                "followup_reminders", _("待办提醒"), "alarm-plus", "activities:reminders", "activities.view"
            ),
            NavEntry(
                "duplicate_check",
                _("客户查重"),
                "copy-check",
                "customer_duplicates:check",
                "customers.create",
            ),
            NavEntry(
                "delegations", _("临时授权"), "user-share", "customers_delegations:list", "customers.view"
            ),
            NavEntry(
                "customer_recycle_bin", _("回收站"), "trash", "customers:recycle_bin", "customers.delete"
            ),
            NavEntry("imports", _("导入"), "file-import", "imports:home", "customers.import"),
        ),
    ),
    NavSection(
        _("客户设置"),
        (
            NavEntry(
                "customer_dictionaries",
                _("客户字典"),
                "list-details",
                "customers:dictionaries",
                "customers.settings",
            ),
            NavEntry(
                "customer_policy",
                _("录入与保护策略"),
                "shield-check",
                "customer_duplicates:settings",
                "customers.settings",
            ),
            NavEntry("pool_settings", _("公海设置"), "adjustments", "pool:settings", "pool.settings"),
            NavEntry(
                "envelope_templates",
                _("信封模板"),
                "mail",
                "printing:envelope_templates",
                "customers.settings",
            ),
        ),
    ),
    NavSection(
        _("合同与回款"),
        (
            # Entries: contracts, payment plans, receivables, invoices (each module adds its own).
            NavEntry("contracts", _("合同列表"), "file-certificate", "contracts:list", "contracts.view"),
            NavEntry(
                "contract_settings", _("合同设置"), "settings-2", "contracts:settings", "contracts.settings"
            ),
            NavEntry(
                "payment_plans", _("回款计划"), "calendar-dollar", "receivables:plans", "receivables.view"
            ),
            NavEntry("receivables", _("回款"), "cash", "receivables:list", "receivables.view"),
            NavEntry("invoices", _("发票"), "receipt", "invoices:list", "invoices.view"),
        ),
    ),
    NavSection(
        _("产品"),
        (
            NavEntry("products", _("产品列表"), "package", "products:list", "products.view"),
            NavEntry("product_categories", _("产品分类"), "category", "products:categories", "products.view"),
            NavEntry("suppliers", _("供应商"), "truck", "products:suppliers", "products.view"),
        ),
    ),
    NavSection(
        _("组织与权限"),
        (
            NavEntry("departments", _("部门与小组"), "sitemap", "accounts:departments", "departments.view"),
            NavEntry("users", _("员工"), "users", "accounts:users", "users.view"),
            NavEntry("roles", _("角色权限"), "shield-lock", "accounts:roles", "roles.view"),
            NavEntry("auditlog", _("操作日志"), "history", "audit:list", "auditlog.view"),
            NavEntry("approval_flows", _("审批流设置"), "git-branch", "approvals:flows", "settings.settings"),
            NavEntry(
                "opportunity_stages",
                _("商机阶段设置"),
                "list-numbers",
                "opportunities:settings",
                "settings.settings",
            ),
        ),
    ),
    NavSection(
        _("系统集成"),
        (NavEntry("webhooks", _("Webhook"), "webhook", "webhooks:list", "settings.settings"),),
    ),
]


def navigation_for(user, path: str = "") -> list[dict]:
    """The sections and entries this user's roles allow, ready for the template.

    The active entry is the one whose address is the longest prefix of `path`, so that
    /messages/reminders/ lights 我的提醒 and not 消息中心 too.
    """
    permissions = policy.permissions_of(user)
    result = []
    for section in NAVIGATION:
        entries = [
            {"key": e.key, "label": e.label, "icon": e.icon, "url": reverse(e.url_name), "active": False}
            for e in section.entries
            if e.permission is None or e.permission in permissions
        ]
        if entries:
            result.append({"label": section.label, "entries": entries})
    matches = [
        entry
        for section in result
        for entry in section["entries"]
        if path == entry["url"] or (entry["url"] != "/" and path.startswith(entry["url"]))
    ]
    if matches:
        max(matches, key=lambda entry: len(entry["url"]))["active"] = True
    return result
