"""The operation-permission catalogue: every module and the actions a role may be granted on it.

A permission is the string "<module>.<action>" (for example "customers.transfer"). Later modules
add themselves here; the role matrix screen and the default roles read this table.
"""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

ACTIONS: dict[str, Promise] = {
    "view": _("查看"),
    "create": _("新建"),
    "edit": _("编辑"),
    "delete": _("删除"),
    "import": _("导入"),
    "export": _("导出"),
    "transfer": _("转移"),
    "share": _("共享"),
    "print": _("打印"),
    "approve": _("审批"),
    "settings": _("设置"),
}

_RECORD = ("view", "create", "edit", "delete", "import", "export", "transfer", "share", "print")
_DOC = ("view", "create", "edit", "delete", "import", "export", "print", "approve")


@dataclass(frozen=True)
class Module:
    key: str
    label: Promise
    actions: tuple[str, ...]
    group: Promise


SALES = _("销售")
SERVICE = _("服务")
SYSTEM = _("系统")

MODULES: tuple[Module, ...] = (
    Module("customers", _("客户"), _RECORD + ("settings",), SALES),
    Module("pool", _("公海"), ("view", "create", "edit", "delete", "transfer", "export", "settings"), SALES),
    Module("contacts", _("联系人"), _RECORD, SALES),
    Module("leads", _("线索"), _RECORD, SALES),
    Module("opportunities", _("商机"), _RECORD, SALES),
    Module("quotes", _("报价"), _DOC + ("transfer",), SALES),
    Module("contracts", _("合同"), _DOC + ("transfer", "settings"), SALES),
    Module("receivables", _("回款"), _DOC, SALES),
    Module("invoices", _("发票"), _DOC, SALES),
    Module(
        "products", _("产品"), ("view", "create", "edit", "delete", "import", "export", "settings"), SALES
    ),
    Module("activities", _("跟进与任务"), ("view", "create", "edit", "delete", "export"), SALES),
    Module("tickets", _("服务工单"), _RECORD + ("approve",), SERVICE),
    Module("campaigns", _("市场活动"), ("view", "create", "edit", "delete", "export", "approve"), SERVICE),
    Module("reports", _("报表"), ("view", "export", "print"), SERVICE),
    Module("departments", _("部门"), ("view", "create", "edit", "delete"), SYSTEM),
    Module("users", _("员工"), ("view", "create", "edit", "import", "export"), SYSTEM),
    Module("roles", _("角色权限"), ("view", "create", "edit", "delete"), SYSTEM),
    Module("auditlog", _("操作日志"), ("view", "export"), SYSTEM),
    Module("settings", _("系统设置"), ("view", "settings"), SYSTEM),
)
MODULES_BY_KEY = {module.key: module for module in MODULES}
ALL_PERMISSIONS: frozenset[str] = frozenset(f"{m.key}.{a}" for m in MODULES for a in m.actions)


def is_known_permission(code: str) -> bool:
    return code in ALL_PERMISSIONS
