"""Import employees (ORG-2) on the import machinery.

Each cell goes through the user form's own fields (username characters, lengths, e-mail and phone
formats). Usernames and e-mails are unique case-insensitively, in the database and in the file.
The department is given by name, or by its path of names when the name is ambiguous
("办公室/销售中心/华南销售部"); empty means the root department. The direct manager is the
username of an active employee. Roles are named, separated by commas; the super-administrator
role is never granted by an import, and imports never set is_superuser/is_staff.

How imported employees get in: every new account must change its password at first login
(`must_change_password`). The optional column 初始密码 gives the initial password; it must pass
the password policy (AUTH_PASSWORD_VALIDATORS, checked with the row's username, name and e-mail).
Without it the account gets an unusable password, and an administrator sets the initial password
on the employee's page (员工 → 重置密码) before the employee can log in. Passwords are hashed once
per distinct password and never stored in the job's error list or failed-rows file beyond what the
user uploaded.

Duplicates (an existing username) are skipped or, with "更新已有记录" (permission users.edit),
update the employee's name, e-mail, phone, position, department, manager and roles (only the
cells the file fills). An import never changes a password, a super administrator, or the
importer's own account, and never disables an employee (disabling hands over their customers:
that is done on the employee's page).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.access import policy as access_policy
from crm.accounts.forms import UserForm
from crm.accounts.models import Department, Role, User
from crm.accounts.services import _roles_snapshot, _user_snapshot, department_ensure_root
from crm.audit.services import diff, log_actions_bulk
from crm.imports.targets import register
from crm.imports.targets.base import Dedupe, ImportContext, ImportField, ImportTarget, RowOutcome
from crm.imports.targets.common import clean_with, first_message
from crm.imports.targets.products import parse_bool

TEXT_FIELDS = ("username", "name", "email", "phone", "position")
ALIASES = {
    "username": ("Username", "账号", "登录名", "用户名称"),
    "name": ("Name", "员工姓名"),
    "email": ("Email", "电子邮箱", "邮件"),
    "phone": ("Mobile", "Phone", "手机", "手机号码", "电话"),
    "position": ("Position", "Title", "职务"),
    "department": ("Department", "所属部门"),
    "manager": ("Manager", "直属上级用户名", "上级"),
    "roles": ("Roles", "Role"),
    "is_active": ("Active", "状态", "是否启用"),
    "password": ("Password", "密码"),
}
LABELS = {
    "department": gettext_lazy("部门"),
    "manager": gettext_lazy("直属上级"),
    "roles": gettext_lazy("角色"),
    "is_active": gettext_lazy("启用"),
    "password": gettext_lazy("初始密码"),
}
HELP = {
    "username": gettext_lazy("登录用的用户名：字母、数字和 @ . + - _，不能与已有员工重复"),
    "department": gettext_lazy("部门名称；重名时填写完整路径，如 办公室/销售中心；不填为根部门"),
    "manager": gettext_lazy("直属上级的用户名（在职员工）"),
    "roles": gettext_lazy("角色名称，多个用逗号分隔；不能导入超级管理员角色"),
    "is_active": gettext_lazy("填“是”或“否”，不填为启用"),
    "password": gettext_lazy(
        "仅用于新员工，须符合密码规则；不填则由管理员在员工页面设置初始密码。员工首次登录后须修改密码"
    ),
}
EXAMPLES = {
    "username": "zhangsan",
    "name": "张三",
    "email": "zhangsan@example.com",
    "phone": "13800000000",
    "position": "销售代表",
    "department": "办公室/销售中心",
    "roles": "销售",
    "is_active": "是",
}


def department_lookup() -> tuple[dict[str, Department | None], dict[str, Department]]:
    """Departments by name (None when two share the name) and by their path of names ("a/b/c")."""
    departments = list(Department.objects.order_by("path"))
    by_id = {d.pk: d for d in departments}
    by_name: dict[str, Department | None] = {}
    by_path: dict[str, Department] = {}
    for department in departments:
        key = department.name.strip().lower()
        by_name[key] = None if key in by_name else department
        ids = [int(i) for i in (department.path or "").strip("/").split("/") if i.isdigit()]
        names = [by_id[i].name.strip().lower() for i in ids if i in by_id]
        if names:
            by_path["/".join(names)] = department
            # the root's name may be left out of a path: "销售中心/华南销售部"
            if len(names) > 1:
                by_path.setdefault("/".join(names[1:]), department)
    return by_name, by_path


def department_value(lookups, raw: str) -> Department:
    by_name, by_path = lookups
    text = raw.strip().lower()
    for separator in (">", "＞", "\\", "／"):
        text = text.replace(separator, "/")
    text = "/".join(part.strip() for part in text.strip("/").split("/"))
    found = by_path.get(text) if "/" in text else by_name.get(text) or by_path.get(text)
    if found is not None:
        return found
    if text in by_name:
        raise ValidationError(
            _("有多个名为“%(name)s”的部门，请填写完整路径，如 上级部门/%(name)s。") % {"name": raw.strip()}
        )
    raise ValidationError(
        _("部门“%(name)s”不存在，请先在组织架构中创建，或填写已有部门的名称。") % {"name": raw.strip()}
    )


def split_names(raw: str) -> list[str]:
    for separator in ("，", "、", ";", "；", "|"):
        raw = raw.replace(separator, ",")
    return [part.strip() for part in raw.split(",") if part.strip()]


class UserImportTarget(ImportTarget):
    key = "users"
    label = gettext_lazy("员工")
    permission = "users.import"
    dedupe_modes = (Dedupe.SKIP, Dedupe.UPDATE)
    batch_size = 500

    # ------------------------------------------------------------ fields

    def fields(self, user) -> list[ImportField]:
        form = UserForm()
        result = [
            ImportField(
                key=name,
                label=form.fields[name].label,
                required=name in ("username", "name"),
                aliases=ALIASES[name],
                help=HELP.get(name, ""),
                example=EXAMPLES.get(name, ""),
            )
            for name in TEXT_FIELDS
        ]
        result += [
            ImportField(
                key=name,
                label=LABELS[name],
                aliases=ALIASES[name],
                help=HELP[name],
                example=EXAMPLES.get(name, ""),
            )
            for name in ("department", "manager", "roles", "is_active", "password")
        ]
        return result

    # ------------------------------------------------------------ per run

    def start(self, user, options: dict[str, Any]) -> ImportContext:
        ctx = super().start(user, options)
        form = UserForm()
        visible = access_policy.visible_users(user).values_list("pk", flat=True)
        ctx.extra.update(
            form_fields=form.fields,
            departments=department_lookup(),
            roles={role.name.strip().lower(): role for role in Role.objects.all()},
            usernames={u.lower(): pk for u, pk in User.objects.values_list("username", "pk")},
            emails={e.lower(): pk for e, pk in User.objects.exclude(email="").values_list("email", "pk")},
            managers={u.username.lower(): u for u in User.objects.filter(is_active=True)},
            supers=set(User.objects.filter(roles__is_super=True).values_list("pk", flat=True)),
            visible=set(visible),
            can_edit=access_policy.can(user, "users.edit"),
            emails_in_file={},
            root=department_ensure_root(),
        )
        return ctx

    def check(self, ctx: ImportContext, row_number: int, values: dict[str, str]) -> RowOutcome:
        out = RowOutcome(row_number=row_number)
        extra = ctx.extra
        form_fields = extra["form_fields"]
        data: dict[str, Any] = {}
        filled: set[str] = set()
        # 1. The user form's own fields.
        for name in TEXT_FIELDS:
            raw = (values.get(name) or "").strip()
            if raw:
                filled.add(name)
            try:
                data[name] = clean_with(form_fields[name], raw) or ""
            except ValidationError as exc:
                out.error(name, first_message(exc))
        username = data.get("username", "")
        existing_id = extra["usernames"].get(username.lower()) if username else None
        # 2. Department, manager, roles, active.
        raw_department = (values.get("department") or "").strip()
        data["department"] = None
        if raw_department:
            filled.add("department")
            try:
                data["department"] = department_value(extra["departments"], raw_department)
            except ValidationError as exc:
                out.error("department", first_message(exc))
        raw_manager = (values.get("manager") or "").strip()
        data["manager"] = None
        if raw_manager:
            filled.add("manager")
            manager = extra["managers"].get(raw_manager.lower())
            if raw_manager.lower() == username.lower() or (manager is not None and manager.pk == existing_id):
                out.error("manager", _("直属上级不能是本人。"))
            elif manager is None:
                out.error("manager", _("直属上级“%(name)s”不是在职员工的用户名。") % {"name": raw_manager})
            else:
                data["manager"] = manager
        roles: list[Role] = []
        raw_roles = (values.get("roles") or "").strip()
        if raw_roles:
            filled.add("roles")
            for role_name in split_names(raw_roles):
                role = extra["roles"].get(role_name.lower())
                if role is None:
                    out.error("roles", _("角色“%(name)s”不存在。") % {"name": role_name})
                elif role.is_super:
                    out.error("roles", _("不能通过导入授予超级管理员角色。"))
                elif role not in roles:
                    roles.append(role)
        data["roles"] = roles
        active = True
        raw_active = (values.get("is_active") or "").strip()
        if raw_active:
            parsed = parse_bool(raw_active)
            if parsed is None:
                out.error("is_active", _("“%(value)s”无效，请填“是”或“否”。") % {"value": raw_active})
            else:
                active = parsed
                filled.add("is_active")
        password = values.get("password") or ""
        if out.errors:
            return out
        # 3. Unique username and e-mail: earlier in this file, then in the database.
        earlier = ctx.seen.get(username.lower())
        if earlier is not None:
            out.error(
                "username", _("用户名“%(name)s”与第 %(row)s 行重复。") % {"name": username, "row": earlier}
            )
            return out
        ctx.seen[username.lower()] = row_number
        email = data.get("email", "")
        if email:
            earlier_email = extra["emails_in_file"].get(email.lower())
            if earlier_email is not None:
                out.error(
                    "email",
                    _("邮箱“%(email)s”与第 %(row)s 行重复。") % {"email": email, "row": earlier_email},
                )
                return out
            extra["emails_in_file"][email.lower()] = row_number
            owner = extra["emails"].get(email.lower())
            if owner is not None and owner != existing_id:
                out.error("email", _("邮箱“%(email)s”已被使用。") % {"email": email})
                return out
        if existing_id is None:
            return self._check_new(ctx, out, data, active, password)
        return self._check_existing(ctx, out, existing_id, data, filled, active)

    def _check_new(self, ctx, out: RowOutcome, data: dict, active: bool, password: str) -> RowOutcome:
        if password:
            try:
                validate_password(
                    password, User(username=data["username"], email=data.get("email", ""), name=data["name"])
                )
            except ValidationError as exc:
                out.error("password", " ".join(str(m) for m in exc.messages))
                return out
        user = User(
            username=data["username"],
            name=data["name"],
            email=data.get("email", ""),
            phone=data.get("phone", ""),
            position=data.get("position", ""),
            department=data["department"] or ctx.extra["root"],
            manager=data["manager"],
            is_active=active,
            must_change_password=True,
        )
        try:
            user.full_clean(
                exclude=["password", "department", "manager"],
                validate_unique=False,
                validate_constraints=False,
            )
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                out.error(key, messages[0])
            return out
        out.action = "create"
        out.data = {"user": user, "roles": data["roles"], "password": password}
        return out

    def _check_existing(
        self, ctx, out: RowOutcome, existing_id: int, data: dict, filled: set, active: bool
    ) -> RowOutcome:
        extra = ctx.extra
        out.existing_id = existing_id
        if ctx.dedupe != Dedupe.UPDATE:
            out.action = "skip"
            out.data["reason"] = _("用户名“%(name)s”已存在。") % {"name": data["username"]}
            return out
        if not extra["can_edit"] or existing_id not in extra["visible"]:
            out.error(
                "username", _("用户名“%(name)s”已存在，您没有修改该员工的权限。") % {"name": data["username"]}
            )
            return out
        if existing_id == ctx.user.pk:
            out.error("username", _("不能通过导入修改自己的账号。"))
            return out
        if existing_id in extra["supers"]:
            out.error("username", _("不能通过导入修改超级管理员的账号。"))
            return out
        user = User.objects.select_related("department", "manager").get(pk=existing_id)
        if "is_active" in filled and user.is_active and not active:
            out.error("is_active", _("停用员工需要交接其客户，请在员工页面操作。"))
            return out
        manager = data["manager"]
        if manager is not None and manager.pk in access_policy.subordinate_ids(user):
            out.error("manager", _("直属上级不能是本人的下属（会形成循环）。"))
            return out
        changes = {name: data[name] for name in (*TEXT_FIELDS, "department", "manager") if name in filled}
        changes.pop("username", None)
        if "is_active" in filled and active and not user.is_active:
            changes["is_active"] = True
        out.action = "update"
        out.data = {"changes": changes, "roles": data["roles"] if "roles" in filled else None}
        return out

    # ------------------------------------------------------------ write

    def create_rows(self, ctx: ImportContext, outcomes: list[RowOutcome]) -> None:
        hashes: dict[str, str] = {}
        users: list[User] = []
        for outcome in outcomes:
            user: User = outcome.data["user"]
            password = outcome.data["password"]
            if password:
                if password not in hashes:
                    hashes[password] = make_password(password)
                user.password = hashes[password]
            else:
                user.set_unusable_password()
            user.is_superuser = False
            user.is_staff = False
            user.date_joined = timezone.now()
            users.append(user)
        User.objects.bulk_create(users, batch_size=500)
        if users and users[0].pk is None:  # backends that do not return ids
            ids = dict(
                User.objects.filter(username__in=[u.username for u in users]).values_list("username", "pk")
            )
            for user in users:
                user.pk = ids[user.username]
        through = User.roles.through
        through.objects.bulk_create(
            [
                through(user_id=user.pk, role_id=role.pk)
                for user, outcome in zip(users, outcomes, strict=True)
                for role in outcome.data["roles"]
            ],
            batch_size=1000,
        )
        for user in users:
            ctx.extra["usernames"][user.username.lower()] = user.pk
            if user.email:
                ctx.extra["emails"][user.email.lower()] = user.pk
        log_actions_bulk(
            actor=ctx.user,
            action="user.created",
            targets=users,
            changes_by_target={
                user.pk: diff(
                    {},
                    _user_snapshot(user) | {"roles": sorted(r.name for r in outcome.data["roles"])},
                )
                for user, outcome in zip(users, outcomes, strict=True)
            },
            message=str(_("导入")),
        )

    def update_rows(self, ctx: ImportContext, outcomes: list[RowOutcome]) -> None:
        by_pk = {
            u.pk: u
            for u in User.objects.select_for_update(of=("self",))
            .select_related("department", "manager")
            .filter(pk__in=[o.existing_id for o in outcomes])
        }
        changed: list[User] = []
        changes_by_target: dict[int, dict] = {}
        touched: set[str] = {"updated_at"}
        role_changes: list[tuple[User, list[Role]]] = []
        now = timezone.now()
        for outcome in outcomes:
            user = by_pk.get(outcome.existing_id)
            if user is None:
                raise ValidationError(_("第 %(row)s 行要更新的员工已不存在。") % {"row": outcome.row_number})
            if user.roles.filter(is_super=True).exists():
                raise ValidationError(_("不能通过导入修改超级管理员的账号。"))
            old = _user_snapshot(user)
            for field, value in outcome.data["changes"].items():
                setattr(user, field, value)
                touched.add(field)
            changes = diff(old, _user_snapshot(user))
            if changes:
                user.updated_at = now
                changed.append(user)
                changes_by_target[user.pk] = changes
            if outcome.data["roles"] is not None:
                role_changes.append((user, outcome.data["roles"]))
        if changed:
            User.objects.bulk_update(changed, sorted(touched), batch_size=500)
            log_actions_bulk(
                actor=ctx.user,
                action="user.updated",
                targets=changed,
                changes_by_target=changes_by_target,
                message=str(_("导入")),
            )
        roles_changed: list[User] = []
        roles_by_target: dict[int, dict] = {}
        for user, roles in role_changes:
            old_roles = _roles_snapshot(user)
            user.roles.set(roles)
            access_policy.forget(user)
            new_roles = sorted(r.name for r in roles)
            if old_roles != new_roles:
                roles_changed.append(user)
                roles_by_target[user.pk] = {"roles": [old_roles, new_roles]}
        if roles_changed:
            log_actions_bulk(
                actor=ctx.user,
                action="user.roles_changed",
                targets=roles_changed,
                changes_by_target=roles_by_target,
                message=str(_("导入")),
            )


register(UserImportTarget())
