"""Every write to the organisation: departments, groups, users and roles.

Each function validates before it saves, runs in one transaction and writes the operation log.
Rules that are violated raise ValidationError with a message in the user's language.
"""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext as _

from crm.access import policy
from crm.access.field_policy import validate_field_permissions
from crm.access.registry import ALL_PERMISSIONS
from crm.accounts.models import Department, Role, Team, User
from crm.audit.services import diff, log_action

NAME_MAX = 64


def _clean_name(name: str, *, label: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError(_("%(label)s不能为空。") % {"label": label})
    if len(name) > NAME_MAX:
        raise ValidationError(_("%(label)s不能超过 %(max)d 个字符。") % {"label": label, "max": NAME_MAX})
    return name


# ---------------------------------------------------------------- departments


def _check_sibling_name(*, parent: Department | None, name: str, exclude_pk: int | None = None) -> None:
    siblings = Department.objects.filter(parent=parent, name=name)
    if exclude_pk:
        siblings = siblings.exclude(pk=exclude_pk)
    if siblings.exists():
        raise ValidationError(_("同一上级部门下已有名为“%(name)s”的部门。") % {"name": name})


@transaction.atomic
def department_create(*, actor, name: str, parent: Department | None, ip: str | None = None) -> Department:
    name = _clean_name(name, label=_("部门名称"))
    if parent is None and Department.objects.exists():
        raise ValidationError(_("请选择上级部门：只能有一个顶级部门。"))
    _check_sibling_name(parent=parent, name=name)
    department = Department.objects.create(name=name, parent=parent)
    department.path = f"{parent.path if parent else '/'}{department.pk}/"
    department.save(update_fields=["path"])
    log_action(
        actor=actor,
        action="department.created",
        target=department,
        changes={"name": [None, name], "parent": [None, str(parent) if parent else None]},
        ip_address=ip,
    )
    return department


@transaction.atomic
def department_update(
    *, actor, department: Department, name: str, parent: Department | None, ip: str | None = None
) -> Department:
    """Rename and/or move a department; its whole subtree moves with it."""
    department = Department.objects.select_for_update().get(pk=department.pk)
    name = _clean_name(name, label=_("部门名称"))
    old = {"name": department.name, "parent": department.parent}
    if parent is None and department.parent_id is not None:
        raise ValidationError(_("请选择上级部门：只能有一个顶级部门。"))
    if parent is not None and department.parent_id is None:
        raise ValidationError(_("顶级部门不能移动到其他部门下。"))
    if parent is not None and parent.path.startswith(department.path):
        raise ValidationError(_("不能把部门移动到它自己或它的下级部门之下。"))
    _check_sibling_name(parent=parent, name=name, exclude_pk=department.pk)
    old_path = department.path
    department.name = name
    department.parent = parent
    department.path = f"{parent.path if parent else '/'}{department.pk}/"
    department.save(update_fields=["name", "parent", "path", "updated_at"])
    if old_path != department.path:
        # One UPDATE rewrites the path prefix of every descendant.
        Department.objects.filter(path__startswith=old_path).exclude(pk=department.pk).update(
            path=Concat(Value(department.path), Substr(F("path"), len(old_path) + 1))
        )
    changes = diff(old, {"name": department.name, "parent": department.parent})
    if changes:
        action = "department.moved" if "parent" in changes else "department.renamed"
        log_action(actor=actor, action=action, target=department, changes=changes, ip_address=ip)
    return department


@transaction.atomic
def department_delete(*, actor, department: Department, ip: str | None = None) -> None:
    if department.parent_id is None:
        raise ValidationError(_("顶级部门不能删除。"))
    if department.children.exists():
        raise ValidationError(_("该部门下还有下级部门，不能删除。"))
    if department.users.exists():
        raise ValidationError(_("该部门下还有员工（含已停用），不能删除。"))
    if department.teams.exists():
        raise ValidationError(_("该部门下还有小组，不能删除。"))
    roles = list(Role.objects.filter(custom_departments=department).values_list("name", flat=True))
    if roles:
        raise ValidationError(
            _("角色“%(roles)s”的定制数据范围用到了该部门，请先修改这些角色。")
            % {"roles": _("、").join(roles)}
        )
    log_action(
        actor=actor,
        action="department.deleted",
        target=department,
        changes={"name": [department.name, None]},
        ip_address=ip,
    )
    department.delete()


def department_ensure_root() -> Department:
    """The default top department 办公室 (ORG-1); created on first use."""
    root = Department.objects.filter(parent__isnull=True).first()
    if root is None:
        root = Department.objects.create(name="办公室")
        root.path = f"/{root.pk}/"
        root.save(update_fields=["path"])
    return root


# ---------------------------------------------------------------- groups (小组)


@transaction.atomic
def team_save(
    *,
    actor,
    team: Team | None,
    name: str,
    department: Department,
    leader: User | None,
    members: Iterable[User],
    ip: str | None = None,
) -> Team:
    name = _clean_name(name, label=_("小组名称"))
    clash = Team.objects.filter(department=department, name=name)
    if team is not None:
        clash = clash.exclude(pk=team.pk)
    if clash.exists():
        raise ValidationError(_("该部门下已有名为“%(name)s”的小组。") % {"name": name})
    members = list(members)
    created = team is None
    old = (
        {}
        if created
        else {
            "name": team.name,
            "department": team.department,
            "leader": team.leader,
            "members": sorted(str(m) for m in team.members.all()),
        }
    )
    team = team or Team()
    team.name, team.department, team.leader = name, department, leader
    team.save()
    team.members.set(members)
    new = {
        "name": name,
        "department": department,
        "leader": leader,
        "members": sorted(str(m) for m in members),
    }
    log_action(
        actor=actor,
        action="team.created" if created else "team.updated",
        target=team,
        changes=diff(old, new),
        ip_address=ip,
    )
    return team


@transaction.atomic
def team_delete(*, actor, team: Team, ip: str | None = None) -> None:
    log_action(
        actor=actor, action="team.deleted", target=team, changes={"name": [team.name, None]}, ip_address=ip
    )
    team.delete()


# ---------------------------------------------------------------- users


def _check_manager(user: User | None, manager: User | None) -> None:
    if manager is None or user is None or user.pk is None:
        return
    if manager.pk == user.pk:
        raise ValidationError(_("直属上级不能是本人。"))
    if manager.pk in policy.subordinate_ids(user):
        raise ValidationError(_("直属上级不能是本人的下属（会形成循环）。"))


def _check_unique(*, username: str, email: str, exclude_pk: int | None = None) -> None:
    users = User.objects.exclude(pk=exclude_pk) if exclude_pk else User.objects.all()
    if users.filter(username__iexact=username).exists():
        raise ValidationError(_("用户名“%(username)s”已被使用。") % {"username": username})
    if email and users.filter(email__iexact=email).exists():
        raise ValidationError(_("邮箱“%(email)s”已被使用。") % {"email": email})


def _user_snapshot(user: User) -> dict:
    return {
        "username": user.username,
        "name": user.name,
        "email": user.email,
        "phone": user.phone,
        "position": user.position,
        "department": user.department,
        "manager": user.manager,
        "is_active": user.is_active,
    }


def _roles_snapshot(user: User) -> list[str]:
    return sorted(role.name for role in user.roles.all())


def _check_super_admin_kept(*, user: User, losing: bool) -> None:
    """The last active super admin can neither be disabled nor lose the role."""
    if not losing:
        return
    others = User.objects.filter(is_active=True, roles__is_super=True).exclude(pk=user.pk)
    if user.roles.filter(is_super=True).exists() and user.is_active and not others.exists():
        raise ValidationError(_("系统至少要保留一个启用的超级管理员。"))


def _check_super_grant(*, actor, granting: bool) -> None:
    """Only a super admin makes another super admin (actor None: the system itself, e.g. seeding)."""
    if granting and actor is not None and not policy.is_super_admin(actor):
        raise ValidationError(_("只有超级管理员可以授予超级管理员角色。"))


@transaction.atomic
def user_create(
    *,
    actor,
    username: str,
    password: str,
    name: str = "",
    email: str = "",
    phone: str = "",
    position: str = "",
    department: Department | None = None,
    manager: User | None = None,
    roles: Iterable[Role] = (),
    must_change_password: bool = True,
    ip: str | None = None,
) -> User:
    username = (username or "").strip()
    email = (email or "").strip()
    _check_unique(username=username, email=email)
    user = User(
        username=username,
        name=name.strip(),
        email=email,
        phone=phone.strip(),
        position=position.strip(),
        department=department or department_ensure_root(),
        manager=manager,
        must_change_password=must_change_password,
    )
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    roles = list(roles)
    _check_super_grant(actor=actor, granting=any(r.is_super for r in roles))
    user.roles.set(roles)
    log_action(
        actor=actor,
        action="user.created",
        target=user,
        changes=diff({}, _user_snapshot(user) | {"roles": _roles_snapshot(user)}),
        ip_address=ip,
    )
    return user


@transaction.atomic
def user_update(
    *,
    actor,
    user: User,
    name: str,
    email: str,
    phone: str,
    position: str,
    department: Department | None,
    manager: User | None,
    roles: Iterable[Role] | None = None,
    ip: str | None = None,
) -> User:
    user = User.objects.select_for_update().get(pk=user.pk)
    email = (email or "").strip()
    _check_unique(username=user.username, email=email, exclude_pk=user.pk)
    _check_manager(user, manager)
    old = _user_snapshot(user)
    user.name, user.email, user.phone, user.position = name.strip(), email, phone.strip(), position.strip()
    user.department = department or user.department or department_ensure_root()
    user.manager = manager
    user.full_clean(exclude=["password"])
    user.save()
    changes = diff(old, _user_snapshot(user))
    if changes:
        log_action(actor=actor, action="user.updated", target=user, changes=changes, ip_address=ip)
    if roles is not None:
        user_set_roles(actor=actor, user=user, roles=roles, ip=ip)
    return user


@transaction.atomic
def user_set_roles(*, actor, user: User, roles: Iterable[Role], ip: str | None = None) -> None:
    roles = list(roles)
    old_roles = _roles_snapshot(user)
    losing_super = any(r.is_super for r in user.roles.all()) and not any(r.is_super for r in roles)
    if losing_super and actor is not None and not policy.is_super_admin(actor):
        raise ValidationError(_("只有超级管理员可以收回超级管理员角色。"))
    _check_super_grant(
        actor=actor, granting=any(r.is_super for r in roles) and not any(r.is_super for r in user.roles.all())
    )
    _check_super_admin_kept(user=user, losing=losing_super)
    user.roles.set(roles)
    policy.forget(user)
    new_roles = _roles_snapshot(user)
    if old_roles != new_roles:
        log_action(
            actor=actor,
            action="user.roles_changed",
            target=user,
            changes={"roles": [old_roles, new_roles]},
            ip_address=ip,
        )


@transaction.atomic
def user_set_active(*, actor, user: User, active: bool, ip: str | None = None) -> User:
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_active == active:
        return user
    if not active:
        if actor is not None and actor.pk == user.pk:
            raise ValidationError(_("不能停用自己的账号。"))
        _check_super_admin_kept(user=user, losing=True)
    user.is_active = active
    user.save(update_fields=["is_active", "updated_at"])
    log_action(
        actor=actor,
        action="user.enabled" if active else "user.disabled",
        target=user,
        changes={"is_active": [not active, active]},
        ip_address=ip,
    )
    return user


@transaction.atomic
def user_set_password(
    *, actor, user: User, password: str, ip: str | None = None, must_change: bool = False
) -> None:
    from django.contrib.auth.password_validation import validate_password

    validate_password(password, user)
    user.set_password(password)
    user.must_change_password = must_change
    user.save(update_fields=["password", "must_change_password", "updated_at"])
    action = "user.password_changed" if actor is not None and actor.pk == user.pk else "user.password_reset"
    log_action(actor=actor, action=action, target=user, ip_address=ip)


@transaction.atomic
def user_update_profile(*, user: User, name: str, email: str, phone: str, ip: str | None = None) -> User:
    """What a user may change about themselves (ORG-2)."""
    email = (email or "").strip()
    _check_unique(username=user.username, email=email, exclude_pk=user.pk)
    old = _user_snapshot(user)
    user.name, user.email, user.phone = name.strip(), email, phone.strip()
    user.full_clean(exclude=["password"])
    user.save(update_fields=["name", "email", "phone", "updated_at"])
    changes = diff(old, _user_snapshot(user))
    if changes:
        log_action(actor=user, action="user.profile_updated", target=user, changes=changes, ip_address=ip)
    return user


# ---------------------------------------------------------------- roles


def _role_snapshot(role: Role) -> dict:
    return {
        "name": role.name,
        "description": role.description,
        "data_scope": role.data_scope,
        "custom_departments": sorted(d.name for d in role.custom_departments.all()),
        "permissions": sorted(role.permissions),
        # Field permissions (ORG-8) as "customers.mobile:hidden", so that the log shows old → new.
        "field_permissions": sorted(
            f"{code}:{rule}" for code, rule in (role.field_permissions or {}).items()
        ),
    }


@transaction.atomic
def role_save(
    *,
    actor,
    role: Role | None,
    name: str,
    description: str = "",
    data_scope: str,
    custom_departments: Iterable[Department] = (),
    permissions: Iterable[str] = (),
    field_permissions: dict[str, str] | None = None,
    ip: str | None = None,
) -> Role:
    """Create or change a role. `field_permissions` None keeps the role's field permissions."""
    if role is not None and role.is_super:
        raise ValidationError(_("超级管理员角色不能编辑。"))
    name = _clean_name(name, label=_("角色名称"))
    clash = Role.objects.filter(name=name)
    if role is not None:
        clash = clash.exclude(pk=role.pk)
    if clash.exists():
        raise ValidationError(_("已有名为“%(name)s”的角色。") % {"name": name})
    if data_scope not in Role.DataScope.values:
        raise ValidationError(_("请选择有效的数据范围。"))
    permissions = sorted(set(permissions))
    unknown = [p for p in permissions if p not in ALL_PERMISSIONS]
    if unknown:
        raise ValidationError(_("未知的权限：%(codes)s") % {"codes": ", ".join(unknown)})
    if field_permissions is not None:
        field_permissions = validate_field_permissions(field_permissions)
    custom_departments = list(custom_departments) if data_scope == Role.DataScope.CUSTOM else []
    if data_scope == Role.DataScope.CUSTOM and not custom_departments:
        raise ValidationError(_("数据范围为“定制”时，请至少选择一个部门。"))
    created = role is None
    old = {} if created else _role_snapshot(role)
    role = role or Role()
    role.name, role.description, role.data_scope = name, description.strip()[:255], data_scope
    role.permissions = permissions
    if field_permissions is not None:
        role.field_permissions = field_permissions
    role.save()
    role.custom_departments.set(custom_departments)
    changes = diff(old, _role_snapshot(role))
    if changes:
        log_action(
            actor=actor,
            action="role.created" if created else "role.updated",
            target=role,
            changes=changes,
            ip_address=ip,
        )
    return role


@transaction.atomic
def role_delete(*, actor, role: Role, ip: str | None = None) -> None:
    if role.is_super or role.is_builtin:
        raise ValidationError(_("系统预置角色不能删除。"))
    if role.users.exists():
        raise ValidationError(_("还有员工拥有该角色，请先为他们更换角色。"))
    log_action(
        actor=actor, action="role.deleted", target=role, changes={"name": [role.name, None]}, ip_address=ip
    )
    role.delete()
