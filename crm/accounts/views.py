"""Thin views: parse input, call a service or selector, render."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View

from crm.access import policy
from crm.access.field_policy import field_permission_matrix
from crm.access.registry import ACTIONS, MODULES
from crm.accounts import selectors, services
from crm.accounts.forms import (
    DepartmentForm,
    LoginForm,
    PasswordResetByAdminForm,
    ProfileForm,
    RoleForm,
    TeamForm,
    UserDisableForm,
    UserForm,
    UserImportForm,
)
from crm.accounts.models import Department, Role, Team
from crm.core.mixins import PermissionMixin, ServiceFormView, client_ip

# ---------------------------------------------------------------- login, profile, password


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        # Django's LoginView puts the request host into site_name; show the product's name.
        return super().get_context_data(**kwargs) | {"site_name": settings.CRM_SITE_NAME}


def lockout_response(request, original_response=None, credentials=None):
    """What a locked-out login sees (ORG-6): the login page with a clear message, HTTP 429.

    API clients get the same message as JSON."""
    message = _("登录失败次数过多，该账号已被锁定 15 分钟，请稍后再试或联系管理员。")
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=429)
    context = {
        "form": LoginForm(request),
        "lockout_message": message,
    }
    return render(request, "accounts/login.html", context, status=429)


@login_required
def profile(request):
    user = request.user
    form = ProfileForm(
        request.POST or None, initial={"name": user.name, "email": user.email, "phone": user.phone}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update_profile(user=user, ip=client_ip(request), **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("个人资料已保存。"))
            return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form, "roles": user.roles.all()})


@login_required
def password_change(request):
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.user_set_password(
            actor=request.user,
            user=request.user,
            password=form.cleaned_data["new_password1"],
            ip=client_ip(request),
        )
        update_session_auth_hash(request, request.user)
        messages.success(request, _("密码已修改。"))
        return redirect("home")
    return render(request, "accounts/password_change.html", {"form": form})


# ---------------------------------------------------------------- departments and groups


@login_required
def user_picker(request):
    """Options for the user pickers that load as the user types: [{"value", "text"}, ...];
    `scope=visible` offers only colleagues in the viewer's data scope (lead and opportunity
    transfers, whose services accept only those)."""
    within = policy.visible_users(request.user) if request.GET.get("scope") == "visible" else None
    users = selectors.users_for_picker(request.GET.get("q", ""), within=within)
    options = [
        {"value": u.pk, "text": f"{u}（{u.department.name}）" if u.department_id else str(u)} for u in users
    ]
    return JsonResponse(options, safe=False)


class DepartmentsView(PermissionMixin, View):
    permission = "departments.view"

    def get(self, request):
        tree = selectors.department_tree()
        selected_id = request.GET.get("department")
        selected = next((d for d in tree if str(d.pk) == selected_id), tree[0] if tree else None)
        context = {
            "tree": tree,
            "selected": selected,
            "teams": selectors.department_teams(selected) if selected else [],
            "members": selected.users.filter(is_active=True).order_by("id")[:200] if selected else [],
            "can_create": policy.can(request.user, "departments.create"),
            "can_edit": policy.can(request.user, "departments.edit"),
            "can_delete": policy.can(request.user, "departments.delete"),
        }
        return render(request, "accounts/departments/index.html", context)


class DepartmentFormView(ServiceFormView):
    """Create a department, or rename/move one (its subtree moves with it)."""

    create_permission, edit_permission = "departments.create", "departments.edit"
    template_name = "accounts/departments/form.html"
    object_name = "department"

    def load(self, pk):
        return get_object_or_404(Department, pk=pk)

    def get_form(self):
        if self.object:
            initial = {"name": self.object.name, "parent": self.object.parent_id}
        else:
            initial = {"parent": self.request.GET.get("parent")}
        return DepartmentForm(self.request.POST or None, initial=initial)

    def save(self, form):
        ip = client_ip(self.request)
        if self.object:
            return services.department_update(
                actor=self.request.user, department=self.object, ip=ip, **form.cleaned_data
            )
        return services.department_create(actor=self.request.user, ip=ip, **form.cleaned_data)

    def success_message(self, saved):
        return _("部门“%(name)s”已保存。") % {"name": saved.name}

    def success_url(self, saved):
        return f"{reverse('accounts:departments')}?department={saved.pk}"


class DepartmentDeleteView(PermissionMixin, View):
    permission = "departments.delete"

    def post(self, request, pk):
        department = get_object_or_404(Department, pk=pk)
        try:
            services.department_delete(actor=request.user, department=department, ip=client_ip(request))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(f"{reverse('accounts:departments')}?department={department.pk}")
        messages.success(request, _("部门已删除。"))
        return redirect("accounts:departments")


class TeamFormView(ServiceFormView):
    create_permission, edit_permission = "departments.create", "departments.edit"
    template_name = "accounts/teams/form.html"
    object_name = "team"

    def load(self, pk):
        return get_object_or_404(Team, pk=pk)

    def get_form(self):
        initial = None if self.object else {"department": self.request.GET.get("department")}
        return TeamForm(self.request.POST or None, team=self.object, initial=initial)

    def save(self, form):
        return services.team_save(
            actor=self.request.user, team=self.object, ip=client_ip(self.request), **form.cleaned_data
        )

    def success_message(self, saved):
        return _("小组“%(name)s”已保存。") % {"name": saved.name}

    def success_url(self, saved):
        return f"{reverse('accounts:departments')}?department={saved.department_id}"


class TeamDeleteView(PermissionMixin, View):
    permission = "departments.delete"

    def post(self, request, pk):
        team = get_object_or_404(Team, pk=pk)
        department_id = team.department_id
        services.team_delete(actor=request.user, team=team, ip=client_ip(request))
        messages.success(request, _("小组已删除。"))
        return redirect(f"{reverse('accounts:departments')}?department={department_id}")


# ---------------------------------------------------------------- users


class UserListView(PermissionMixin, View):
    permission = "users.view"
    page_size = 30

    def get(self, request):
        status = request.GET.get("status", "active")
        department_id = request.GET.get("department")
        users = selectors.user_list(
            viewer=request.user,
            query=request.GET.get("q", "").strip()[:100],
            department_id=int(department_id) if (department_id or "").isdigit() else None,
            status=status,
        )
        page = Paginator(users, self.page_size).get_page(request.GET.get("page"))
        context = {
            "page": page,
            "status": status,
            "query": request.GET.get("q", ""),
            "departments": policy.visible_departments(request.user).order_by("path"),
            "department_id": department_id or "",
            "can_create": policy.can(request.user, "users.create"),
            "can_edit": policy.can(request.user, "users.edit"),
            "can_import": policy.can(request.user, "users.import"),
        }
        return render(request, "accounts/users/list.html", context)


class UserFormView(ServiceFormView):
    create_permission, edit_permission = "users.create", "users.edit"
    template_name = "accounts/users/form.html"
    object_name = "user_obj"

    def load(self, pk):
        return selectors.user_get_for_viewer(viewer=self.request.user, user_id=pk)

    def get_form(self):
        return UserForm(self.request.POST or None, instance=self.object)

    def save(self, form):
        data = dict(form.cleaned_data)
        ip = client_ip(self.request)
        if self.object:
            data.pop("username", None)
            return services.user_update(actor=self.request.user, user=self.object, ip=ip, **data)
        return services.user_create(actor=self.request.user, ip=ip, **data)

    def success_message(self, saved):
        return _("员工“%(name)s”已保存。") % {"name": saved.display_name}

    def success_url(self, saved):
        return reverse("accounts:users")


class UserActiveView(PermissionMixin, View):
    """Disable or re-enable an account (never delete)."""

    permission = "users.edit"

    def post(self, request, pk):
        from crm.customers.models import Customer

        user = selectors.user_get_for_viewer(viewer=request.user, user_id=pk)
        active = request.POST.get("active") == "1"
        if not active and Customer.objects.filter(owner=user, deleted_at__isnull=True).exists():
            # Their customers must go to someone: the disable page asks to whom.
            return redirect("accounts:user_disable", pk=user.pk)
        try:
            services.user_set_active(actor=request.user, user=user, active=active, ip=client_ip(request))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                (_("已启用 %(name)s。") if active else _("已停用 %(name)s。")) % {"name": user.display_name},
            )
        return redirect("accounts:users")


class UserDisableView(PermissionMixin, View):
    """Disable an account, handing its customers to a colleague or to a pool (ORG-2)."""

    permission = "users.edit"

    def get(self, request, pk):
        user = selectors.user_get_for_viewer(viewer=request.user, user_id=pk)
        return self.render(user, UserDisableForm(user=user))

    def post(self, request, pk):
        from crm.customers.services import user_disable_with_hand_over

        user = selectors.user_get_for_viewer(viewer=request.user, user_id=pk)
        form = UserDisableForm(request.POST, user=user)
        if form.is_valid():
            try:
                handed = user_disable_with_hand_over(
                    actor=request.user,
                    user=user,
                    to_user=form.cleaned_data["hand_over_to"],
                    pool=form.cleaned_data["pool"],
                    ip=client_ip(request),
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(
                    request,
                    _("已停用 %(name)s，交接客户 %(count)d 个。")
                    % {"name": user.display_name, "count": handed},
                )
                return redirect("accounts:users")
        return self.render(user, form, status=400)

    def render(self, user, form, status=200):
        from crm.customers.models import Customer

        owned = Customer.objects.filter(owner=user, deleted_at__isnull=True).count()
        return render(
            self.request,
            "accounts/users/disable.html",
            {"user_obj": user, "form": form, "owned_count": owned},
            status=status,
        )


class UserPasswordResetView(PermissionMixin, View):
    permission = "users.edit"

    def get(self, request, pk):
        user = selectors.user_get_for_viewer(viewer=request.user, user_id=pk)
        return render(
            request, "accounts/users/password.html", {"form": PasswordResetByAdminForm(), "user_obj": user}
        )

    def post(self, request, pk):
        user = selectors.user_get_for_viewer(viewer=request.user, user_id=pk)
        form = PasswordResetByAdminForm(request.POST)
        if form.is_valid():
            try:
                services.user_set_password(
                    actor=request.user,
                    user=user,
                    password=form.cleaned_data["password"],
                    must_change=True,
                    ip=client_ip(request),
                )
            except ValidationError as exc:
                form.add_error("password", exc)
            else:
                messages.success(request, _("已为 %(name)s 重设密码。") % {"name": user.display_name})
                return redirect("accounts:users")
        return render(request, "accounts/users/password.html", {"form": form, "user_obj": user}, status=400)


class UserImportView(PermissionMixin, View):
    permission = "users.import"

    def get(self, request):
        return render(request, "accounts/users/import.html", {"form": UserImportForm()})

    def post(self, request):
        from crm.accounts import imports

        form = UserImportForm(request.POST, request.FILES)
        context = {"form": form}
        status = 400
        if form.is_valid():
            result = imports.users_import(
                actor=request.user,
                file=form.cleaned_data["file"],
                password=form.cleaned_data["password"],
                ip=client_ip(request),
            )
            context["result"] = result
            if result.ok:
                messages.success(
                    request,
                    ngettext("已导入 %(count)d 名员工。", "已导入 %(count)d 名员工。", result.created)
                    % {"count": result.created},
                )
                return redirect("accounts:users")
        return render(request, "accounts/users/import.html", context, status=status)


class UserImportTemplateView(PermissionMixin, View):
    permission = "users.import"

    def get(self, request):
        from crm.accounts import imports

        response = HttpResponse(
            imports.users_import_template(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = "attachment; filename=users-import-template.xlsx"
        return response


# ---------------------------------------------------------------- roles


class RoleListView(PermissionMixin, View):
    permission = "roles.view"

    def get(self, request):
        return render(
            request,
            "accounts/roles/list.html",
            {
                "roles": selectors.role_list(),
                "can_create": policy.can(request.user, "roles.create"),
                "can_edit": policy.can(request.user, "roles.edit"),
                "can_delete": policy.can(request.user, "roles.delete"),
            },
        )


def permission_matrix(selected: set[str]) -> list[dict]:
    """Rows of the module × action matrix for the role screen."""
    return [
        {
            "module": module,
            "cells": [
                {
                    "action": action,
                    "code": f"{module.key}.{action}",
                    "available": action in module.actions,
                    "checked": f"{module.key}.{action}" in selected,
                }
                for action in ACTIONS
            ],
        }
        for module in MODULES
    ]


class RoleFormView(ServiceFormView):
    """The role screen: name, data scope and the whole permission matrix on one page."""

    create_permission, edit_permission = "roles.create", "roles.edit"
    template_name = "accounts/roles/form.html"
    object_name = "role"

    def load(self, pk):
        return get_object_or_404(Role, pk=pk)

    def get_form(self):
        return RoleForm(self.request.POST or None, instance=self.object)

    def save(self, form):
        return services.role_save(
            actor=self.request.user, role=self.object, ip=client_ip(self.request), **form.cleaned_data
        )

    def success_message(self, saved):
        return _("角色“%(name)s”已保存。") % {"name": saved.name}

    def success_url(self, saved):
        return reverse("accounts:roles")

    def extra_context(self, form):
        if form.is_bound:
            selected = set(form.data.getlist("permissions"))
        else:
            selected = set(form.initial.get("permissions", []))
        field_permissions = form.posted_field_permissions() if form.is_bound else None
        if field_permissions is None:
            field_permissions = self.object.field_permissions if self.object else {}
        return {
            "matrix": permission_matrix(selected),
            "actions": ACTIONS,
            "read_only": bool(self.object and self.object.is_super),
            "field_matrix": field_permission_matrix(field_permissions or {}),
        }


class RoleDeleteView(PermissionMixin, View):
    permission = "roles.delete"

    def post(self, request, pk):
        role = get_object_or_404(Role, pk=pk)
        try:
            services.role_delete(actor=request.user, role=role, ip=client_ip(request))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("角色已删除。"))
        return redirect("accounts:roles")
