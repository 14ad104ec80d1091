from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _


class Department(models.Model):
    """A node of the organisation tree (ORG-1).

    `path` is the materialised path of ids ("/1/4/9/") so that "this department and everything
    below it" is one indexed prefix filter, which the 本部门及下级 data scope needs on every list.
    """

    name = models.CharField(_("部门名称"), max_length=64)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("上级部门"),
    )
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    sort_order = models.PositiveIntegerField(_("排序"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("部门")
        verbose_name_plural = _("部门")
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="department_unique_name_in_parent"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def depth(self) -> int:
        return self.path.count("/") - 2

    def ancestor_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/") if part][:-1]


class Team(models.Model):
    """A group (小组) inside a department."""

    name = models.CharField(_("小组名称"), max_length=64)
    department = models.ForeignKey(
        Department, on_delete=models.CASCADE, related_name="teams", verbose_name=_("所属部门")
    )
    leader = models.ForeignKey(
        "User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("组长")
    )
    members = models.ManyToManyField("User", blank=True, related_name="teams", verbose_name=_("成员"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("小组")
        verbose_name_plural = _("小组")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["department", "name"], name="team_unique_name_in_department"),
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.Model):
    """A role grants operation permissions and a data scope (ORG-3)."""

    class DataScope(models.TextChoices):
        SELF = "self", _("本人")
        SELF_AND_SUBORDINATES = "subordinates", _("本人及下属")
        DEPARTMENT = "department", _("本部门")
        DEPARTMENT_TREE = "department_tree", _("本部门及下级")
        CUSTOM = "custom", _("定制")
        ALL = "all", _("全部")

    name = models.CharField(_("角色名称"), max_length=64, unique=True)
    code = models.SlugField(_("代码"), max_length=64, unique=True, null=True, blank=True)
    description = models.CharField(_("说明"), max_length=255, blank=True)
    is_super = models.BooleanField(_("超级管理员"), default=False, editable=False)
    is_builtin = models.BooleanField(_("系统预置"), default=False, editable=False)
    data_scope = models.CharField(_("数据范围"), max_length=20, choices=DataScope, default=DataScope.SELF)
    custom_departments = models.ManyToManyField(
        Department, blank=True, related_name="+", verbose_name=_("定制部门")
    )
    permissions = models.JSONField(_("操作权限"), default=list, blank=True)
    # Field permissions (ORG-8): {"customers.mobile": "hidden" | "readonly" | "mask_list" | "mask", ...};
    # a field not listed is editable (see crm/access/fields.py and field_policy.py).
    field_permissions = models.JSONField(_("字段权限"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("角色")
        verbose_name_plural = _("角色")
        ordering = ["-is_super", "-is_builtin", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    data_scope__in=["self", "subordinates", "department", "department_tree", "custom", "all"]
                ),
                name="role_data_scope_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CrmUserManager(UserManager):
    def get_by_natural_key(self, username):
        return self.get(username__iexact=username)


class User(AbstractUser):
    """A person who logs in. Never deleted: disabling sets is_active = False (ORG-2)."""

    name = models.CharField(_("姓名"), max_length=64, blank=True)
    phone = models.CharField(_("手机号"), max_length=32, blank=True)
    position = models.CharField(_("职位"), max_length=64, blank=True)
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
        verbose_name=_("部门"),
    )
    manager = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="subordinates",
        verbose_name=_("直属上级"),
    )
    roles = models.ManyToManyField(Role, blank=True, related_name="users", verbose_name=_("角色"))
    must_change_password = models.BooleanField(_("下次登录须修改密码"), default=False)
    language = models.CharField(_("界面语言"), max_length=10, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CrmUserManager()

    class Meta:
        verbose_name = _("员工")
        verbose_name_plural = _("员工")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(Lower("username"), name="user_username_ci_unique"),
            models.UniqueConstraint(
                Lower("email"), condition=~models.Q(email=""), name="user_email_ci_unique"
            ),
        ]
        indexes = [models.Index(fields=["department", "is_active"], name="user_dept_active_idx")]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name or self.get_full_name() or self.username
