from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from crm.access.registry import ALL_PERMISSIONS
from crm.accounts.models import Department, Role, Team, User


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label=_("用户名或邮箱"),
        max_length=254,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    error_messages = {
        "invalid_login": _("用户名或密码不正确。连续失败 5 次账号将被锁定 15 分钟。"),
        "inactive": _("该账号已停用，请联系管理员。"),
    }


def department_choices_label(department: Department) -> str:
    return "\u3000" * max(department.depth, 0) + department.name


class DepartmentChoiceField(forms.ModelChoiceField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("empty_label", _("请选择部门"))
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj):
        return department_choices_label(obj)


class DepartmentMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return department_choices_label(obj)


class DepartmentForm(forms.Form):
    name = forms.CharField(label=_("部门名称"), max_length=64)
    parent = DepartmentChoiceField(label=_("上级部门"), queryset=Department.objects.all(), required=False)


class TeamForm(forms.Form):
    name = forms.CharField(label=_("小组名称"), max_length=64)
    department = DepartmentChoiceField(label=_("所属部门"), queryset=Department.objects.all())
    leader = forms.ModelChoiceField(
        label=_("组长"), queryset=User.objects.filter(is_active=True), required=False, empty_label=_("无")
    )
    members = forms.ModelMultipleChoiceField(
        label=_("成员"), queryset=User.objects.filter(is_active=True), required=False
    )

    def __init__(self, *args, team: Team | None = None, **kwargs):
        if team is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": team.name,
                    "department": team.department_id,
                    "leader": team.leader_id,
                    "members": list(team.members.values_list("pk", flat=True)),
                },
            )
        super().__init__(*args, **kwargs)


class UserForm(forms.Form):
    username = forms.RegexField(
        label=_("用户名"),
        max_length=150,
        regex=r"^[\w.@+-]+$",
        error_messages={"invalid": _("用户名只能包含字母、数字和 @ . + - _ 字符。")},
    )
    name = forms.CharField(label=_("姓名"), max_length=64)
    email = forms.EmailField(label=_("邮箱"), required=False, max_length=254)
    phone = forms.RegexField(
        label=_("手机号"),
        required=False,
        max_length=32,
        regex=r"^[0-9+\- ]{5,32}$",
        error_messages={"invalid": _("请输入有效的电话号码。")},
    )
    position = forms.CharField(label=_("职位"), required=False, max_length=64)
    department = DepartmentChoiceField(label=_("部门"), queryset=Department.objects.all())
    manager = forms.ModelChoiceField(
        label=_("直属上级"), queryset=User.objects.filter(is_active=True), required=False, empty_label=_("无")
    )
    roles = forms.ModelMultipleChoiceField(
        label=_("角色"), queryset=Role.objects.all(), required=False, widget=forms.CheckboxSelectMultiple
    )
    password = forms.CharField(
        label=_("初始密码"),
        widget=forms.PasswordInput(render_value=False),
        help_text=_("员工首次登录后须修改密码。"),
    )

    def __init__(self, *args, instance: User | None = None, **kwargs):
        self.instance = instance
        if instance is not None:
            kwargs.setdefault(
                "initial",
                {
                    "username": instance.username,
                    "name": instance.name,
                    "email": instance.email,
                    "phone": instance.phone,
                    "position": instance.position,
                    "department": instance.department_id,
                    "manager": instance.manager_id,
                    "roles": [r.pk for r in instance.roles.all()],
                },
            )
        super().__init__(*args, **kwargs)
        if instance is not None:
            self.fields["username"].disabled = True
            del self.fields["password"]
            self.fields["manager"].queryset = User.objects.filter(is_active=True).exclude(pk=instance.pk)

    def clean_password(self):
        from django.contrib.auth.password_validation import validate_password

        password = self.cleaned_data["password"]
        validate_password(
            password,
            User(
                username=self.data.get("username", ""),
                email=self.data.get("email", ""),
                name=self.data.get("name", ""),
            ),
        )
        return password


class UserDisableForm(forms.Form):
    hand_over_to = forms.ModelChoiceField(
        label=_("客户交接给"), queryset=User.objects.none(), required=False, empty_label=_("不交接给同事")
    )
    pool = forms.ModelChoiceField(
        label=_("或退回公海"), queryset=None, required=False, empty_label=_("不退回公海")
    )

    def __init__(self, *args, user: User, **kwargs):
        from crm.customers.models import Pool

        super().__init__(*args, **kwargs)
        self.fields["hand_over_to"].queryset = User.objects.filter(is_active=True).exclude(pk=user.pk)
        self.fields["pool"].queryset = Pool.objects.all()


class PasswordResetByAdminForm(forms.Form):
    password = forms.CharField(label=_("新密码"), widget=forms.PasswordInput)


class ProfileForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=64)
    email = forms.EmailField(label=_("邮箱"), required=False, max_length=254)
    phone = forms.RegexField(
        label=_("手机号"),
        required=False,
        max_length=32,
        regex=r"^[0-9+\- ]{5,32}$",
        error_messages={"invalid": _("请输入有效的电话号码。")},
    )


class RoleForm(forms.Form):
    name = forms.CharField(label=_("角色名称"), max_length=64)
    description = forms.CharField(label=_("说明"), max_length=255, required=False)
    data_scope = forms.ChoiceField(
        label=_("数据范围"), choices=Role.DataScope.choices, widget=forms.RadioSelect
    )
    custom_departments = DepartmentMultipleChoiceField(
        label=_("定制部门"),
        queryset=Department.objects.all(),
        required=False,
        help_text=_("数据范围为“定制”时，可以看到这些部门员工负责的数据。"),
    )
    permissions = forms.MultipleChoiceField(
        label=_("操作权限"), required=False, choices=[(code, code) for code in sorted(ALL_PERMISSIONS)]
    )

    def __init__(self, *args, instance: Role | None = None, **kwargs):
        if instance is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": instance.name,
                    "description": instance.description,
                    "data_scope": instance.data_scope,
                    "custom_departments": [d.pk for d in instance.custom_departments.all()],
                    "permissions": instance.permissions,
                    "field_permissions": instance.field_permissions,
                },
            )
        super().__init__(*args, **kwargs)

    FIELD_PERMISSION_PREFIX = "field_perm:"

    def posted_field_permissions(self) -> dict[str, str] | None:
        """The 字段权限 section's choices ({"customers.mobile": "hidden"}), or None when the
        page did not send the section (the role keeps its field permissions)."""
        if not self.is_bound or "field_permissions_sent" not in self.data:
            return None
        prefix = self.FIELD_PERMISSION_PREFIX
        return {key[len(prefix) :]: self.data.get(key) for key in self.data if key.startswith(prefix)}

    def clean(self):
        data = super().clean()
        data["field_permissions"] = self.posted_field_permissions()
        return data


class UserImportForm(forms.Form):
    file = forms.FileField(label=_("Excel 文件（.xlsx）"))
    password = forms.CharField(
        label=_("初始密码"),
        widget=forms.PasswordInput,
        help_text=_("导入的员工都使用这个初始密码，首次登录后须修改。"),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".xlsx"):
            raise forms.ValidationError(_("请上传 .xlsx 格式的 Excel 文件。"))
        if upload.size > 10 * 1024 * 1024:
            raise forms.ValidationError(_("文件不能超过 10 MB。"))
        return upload

    def clean_password(self):
        from django.contrib.auth.password_validation import validate_password

        password = self.cleaned_data["password"]
        validate_password(password)
        return password
