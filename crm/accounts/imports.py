"""Batch user import from an .xlsx template (ORG-2).

All rows are validated first; if any row is wrong, nothing is imported and every problem is
reported with its row number. The file is read in openpyxl's streaming (read-only) mode.
"""

import io
import zipfile
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from crm.accounts.models import Department, Role, User
from crm.accounts.services import department_ensure_root
from crm.audit.services import log_action

COLUMNS = [
    ("username", gettext_lazy("用户名"), True),
    ("name", gettext_lazy("姓名"), True),
    ("email", gettext_lazy("邮箱"), False),
    ("phone", gettext_lazy("手机号"), False),
    ("department", gettext_lazy("部门"), False),
    ("position", gettext_lazy("职位"), False),
    ("manager", gettext_lazy("直属上级用户名"), False),
    ("roles", gettext_lazy("角色"), False),
]
MAX_ROWS = 20000
MAX_REPORTED_ERRORS = 200


@dataclass
class RowError:
    row: int | None
    message: str


@dataclass
class ImportResult:
    created: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def add(self, row: int | None, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(RowError(row, message))


def _header_aliases() -> dict[str, str]:
    """Header text (Chinese or English, whatever the UI language was) → column key."""
    from django.utils import translation

    aliases = {}
    for key, label, _required in COLUMNS:
        aliases[key] = key
        for language in ("zh-hans", "en"):
            with translation.override(language):
                aliases[str(label).strip().lower()] = key
    return aliases


def users_import_template() -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("员工"))
    sheet.append([str(label) for _key, label, _required in COLUMNS])
    sheet.append(
        ["zhangsan", "张三", "zhangsan@example.com", "13800000000", "办公室", _("销售代表"), "", "销售"]
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _department_lookup() -> tuple[dict[str, Department | None], dict[str, Department]]:
    """Departments by name (None when the name is ambiguous) and by full path of names."""
    departments = list(Department.objects.order_by("path"))
    by_id = {d.pk: d for d in departments}
    by_name: dict[str, Department | None] = {}
    by_path: dict[str, Department] = {}
    for dept in departments:
        by_name[dept.name] = None if dept.name in by_name else dept
        names = [by_id[int(i)].name for i in dept.path.strip("/").split("/") if int(i) in by_id]
        by_path["/".join(names)] = dept
    return by_name, by_path


def users_import(*, actor, file, password: str, ip: str | None = None) -> ImportResult:
    result = ImportResult()
    try:
        workbook = load_workbook(file, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError):
        result.add(None, _("无法读取文件：请上传用本系统模板填写的 .xlsx 文件。"))
        return result
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True) if workbook.worksheets else iter(())
        header = next(rows, None)
        aliases = _header_aliases()
        columns = [aliases.get(_cell_text(h).lower()) for h in (header or [])]
        missing = [str(label) for key, label, required in COLUMNS if required and key not in columns]
        if header is None or missing:
            result.add(
                1,
                _("表头不正确，缺少列：%(columns)s。请使用导入模板。")
                % {"columns": _("、").join(missing) or _("全部")},
            )
            return result
        records = []
        for number, values in enumerate(rows, start=2):
            record = {key: _cell_text(v) for key, v in zip(columns, values, strict=False) if key}
            if not any(record.values()):
                continue
            if len(records) >= MAX_ROWS:
                result.add(number, _("一次最多导入 %(max)d 行。") % {"max": MAX_ROWS})
                break
            records.append((number, record))
    finally:
        workbook.close()
    if not records and result.ok:
        result.add(None, _("文件里没有员工数据。"))
        return result
    users = _validate(records, result)
    if not result.ok:
        return result
    _save(actor=actor, users=users, password=password, ip=ip)
    result.created = len(users)
    return result


def _validate(records, result: ImportResult) -> list[tuple[User, list[Role], str]]:
    by_name, by_path = _department_lookup()
    roles_by_name = {role.name: role for role in Role.objects.all()}
    existing_usernames = {u.lower() for u in User.objects.values_list("username", flat=True)}
    existing_emails = {e.lower() for e in User.objects.exclude(email="").values_list("email", flat=True)}
    managers = {u.username.lower(): u for u in User.objects.filter(is_active=True)}
    seen_usernames: dict[str, int] = {}
    seen_emails: dict[str, int] = {}
    root = None
    users = []
    username_field = User._meta.get_field("username")
    for number, record in records:
        username, name, email = record.get("username", ""), record.get("name", ""), record.get("email", "")
        problems = []
        if not username:
            problems.append(_("用户名不能为空"))
        else:
            try:
                username_field.run_validators(username)
            except ValidationError:
                problems.append(
                    _("用户名“%(v)s”只能包含字母、数字和 @ . + - _ 字符，且不超过 150 个字符")
                    % {"v": username[:40]}
                )
            key = username.lower()
            if key in existing_usernames:
                problems.append(_("用户名“%(v)s”已存在") % {"v": username})
            elif key in seen_usernames:
                problems.append(
                    _("用户名“%(v)s”与第 %(row)d 行重复") % {"v": username, "row": seen_usernames[key]}
                )
            seen_usernames.setdefault(key, number)
        if not name:
            problems.append(_("姓名不能为空"))
        elif len(name) > 64:
            problems.append(_("姓名不能超过 64 个字符"))
        if email:
            try:
                validate_email(email)
            except ValidationError:
                problems.append(_("邮箱“%(v)s”格式不正确") % {"v": email[:60]})
            else:
                key = email.lower()
                if key in existing_emails:
                    problems.append(_("邮箱“%(v)s”已被使用") % {"v": email})
                elif key in seen_emails:
                    problems.append(
                        _("邮箱“%(v)s”与第 %(row)d 行重复") % {"v": email, "row": seen_emails[key]}
                    )
                seen_emails.setdefault(key, number)
        if len(record.get("phone", "")) > 32:
            problems.append(_("手机号不能超过 32 个字符"))
        if len(record.get("position", "")) > 64:
            problems.append(_("职位不能超过 64 个字符"))
        department = None
        dept_text = record.get("department", "")
        if dept_text:
            department = by_path.get(dept_text.strip("/")) or by_name.get(dept_text)
            if department is None:
                problems.append(
                    _("部门“%(v)s”不存在或有重名，请填写完整路径") % {"v": dept_text[:60]}
                    if dept_text in by_name
                    else _("部门“%(v)s”不存在") % {"v": dept_text[:60]}
                )
        else:
            root = root or department_ensure_root()
            department = root
        manager = None
        if record.get("manager"):
            manager = managers.get(record["manager"].lower())
            if manager is None:
                problems.append(_("直属上级“%(v)s”不是在职员工的用户名") % {"v": record["manager"][:40]})
        roles = []
        for role_name in [
            r.strip() for r in record.get("roles", "").replace("，", ",").split(",") if r.strip()
        ]:
            role = roles_by_name.get(role_name)
            if role is None:
                problems.append(_("角色“%(v)s”不存在") % {"v": role_name[:40]})
            elif role.is_super:
                problems.append(_("不能通过导入授予超级管理员角色"))
            else:
                roles.append(role)
        for problem in problems:
            result.add(number, problem)
        if not problems:
            user = User(
                username=username,
                name=name,
                email=email,
                phone=record.get("phone", ""),
                position=record.get("position", ""),
                department=department,
                manager=manager,
                must_change_password=True,
            )
            users.append((user, roles, username))
    return users


@transaction.atomic
def _save(*, actor, users, password: str, ip: str | None) -> None:
    # One hash for the shared initial password: argon2 per row would take minutes for big files,
    # and every imported user must replace it at first login anyway.
    password_hash = make_password(password)
    for user, _roles, _username in users:
        user.password = password_hash
    created = User.objects.bulk_create([user for user, _r, _u in users], batch_size=1000)
    if created and created[0].pk is None:  # backends that do not return ids
        ids = dict(User.objects.filter(username__in=[u for _x, _r, u in users]).values_list("username", "pk"))
        for user in created:
            user.pk = ids[user.username]
    through = User.roles.through
    through.objects.bulk_create(
        [through(user_id=user.pk, role_id=role.pk) for user, roles, _u in users for role in roles],
        batch_size=1000,
    )
    log_action(
        actor=actor,
        action="user.imported",
        message=_("导入 %(count)d 名员工：%(names)s")
        % {
            "count": len(users),
            "names": ", ".join(u for _x, _r, u in users[:20]) + ("…" if len(users) > 20 else ""),
        },
        ip_address=ip,
    )
