"""The roles every installation starts with (ORG-3). Used by a data migration and by seed_demo."""

from crm.access.registry import MODULES

SALES_MODULES = (
    "customers",
    "pool",
    "contacts",
    "leads",
    "opportunities",
    "quotes",
    "contracts",
    "receivables",
    "invoices",
    "products",
    "activities",
)


def _all(modules, exclude=()):
    return sorted(f"{m.key}.{a}" for m in MODULES if m.key in modules for a in m.actions if a not in exclude)


def _pick(spec: dict[str, tuple[str, ...]]) -> list[str]:
    by_key = {m.key: m for m in MODULES}
    return sorted(f"{key}.{a}" for key, actions in spec.items() for a in actions if a in by_key[key].actions)


def default_roles() -> list[dict]:
    every_module = {m.key for m in MODULES}
    return [
        {
            "code": "super_admin",
            "name": "超级管理员",
            "is_super": True,
            "data_scope": "all",
            "description": "拥有全部权限，不能编辑",
            "permissions": [],
        },
        {
            "code": "admin",
            "name": "管理员",
            "data_scope": "all",
            "description": "管理组织、员工、角色和系统设置",
            "permissions": _all(every_module),
        },
        {
            "code": "sales_manager",
            "name": "销售经理",
            "data_scope": "department_tree",
            "description": "管理本部门及下级部门的销售数据",
            "permissions": _all(SALES_MODULES, exclude=("settings",))
            + _pick(
                {
                    "reports": ("view", "export", "print"),
                    "departments": ("view",),
                    "users": ("view",),
                    "tickets": ("view",),
                    "campaigns": ("view",),
                }
            ),
        },
        {
            "code": "sales",
            "name": "销售",
            "data_scope": "self",
            "description": "跟进自己负责的客户和商机",
            "permissions": _pick(
                {
                    "customers": ("view", "create", "edit", "import", "export", "transfer", "share", "print"),
                    "pool": ("view", "create"),
                    "contacts": ("view", "create", "edit", "import", "export", "transfer", "share", "print"),
                    "leads": ("view", "create", "edit", "import", "export", "transfer"),
                    "opportunities": ("view", "create", "edit", "transfer", "share"),
                    "quotes": ("view", "create", "edit", "print"),
                    "contracts": ("view", "create", "edit", "print"),
                    "receivables": ("view", "create"),
                    "invoices": ("view", "create"),
                    "products": ("view",),
                    "activities": ("view", "create", "edit", "delete"),
                    "reports": ("view",),
                }
            ),
        },
        {
            "code": "finance",
            "name": "财务",
            "data_scope": "all",
            "description": "审核合同、回款与发票",
            "permissions": _pick(
                {
                    "customers": ("view",),
                    "contacts": ("view",),
                    "contracts": ("view", "export", "print", "approve"),
                    "receivables": ("view", "create", "edit", "delete", "export", "print", "approve"),
                    "invoices": ("view", "create", "edit", "delete", "export", "print", "approve"),
                    "products": ("view",),
                    "reports": ("view", "export", "print"),
                }
            ),
        },
        {
            "code": "service",
            "name": "客服",
            "data_scope": "all",
            "description": "处理服务工单和客户回访",
            "permissions": _pick(
                {
                    "customers": ("view",),
                    "contacts": ("view", "edit"),
                    "tickets": ("view", "create", "edit", "delete", "export", "transfer", "print"),
                    "activities": ("view", "create", "edit"),
                    "products": ("view",),
                }
            ),
        },
    ]


def ensure_default_roles(role_model) -> None:
    """Create the default roles that are missing; never touch roles an admin has edited."""
    for spec in default_roles():
        if role_model.objects.filter(code=spec["code"]).exists():
            continue
        name = spec["name"]
        if role_model.objects.filter(name=name).exists():
            continue
        role_model.objects.create(
            code=spec["code"],
            name=name,
            description=spec["description"],
            is_super=spec.get("is_super", False),
            is_builtin=True,
            data_scope=spec["data_scope"],
            permissions=spec["permissions"],
        )


def ensure_root_department(department_model) -> None:
    if not department_model.objects.filter(parent__isnull=True).exists():
        root = department_model.objects.create(name="办公室")
        root.path = f"/{root.pk}/"
        root.save(update_fields=["path"])
