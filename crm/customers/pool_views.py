"""Pages of the public customer pool (公海): thin views over pool_services and pool_selectors."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View

from crm.access import field_policy, policy
from crm.core.mixins import PermissionMixin, ServiceFormView, client_ip
from crm.core.paging import keyset_page
from crm.customers import pool_selectors, pool_services, recycle
from crm.customers.models import ClaimRequest, Customer, PoolSettings
from crm.customers.pool_forms import LimitsForm, PoolForm, ReleaseForm
from crm.customers.selectors import pools_visible

MY_APPLICATIONS_SHOWN = 50


def _back(request, default: str = "") -> str:
    """Where to go after a POST: the page it came from (same site only), else the pool list."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default or reverse("pool:list")


def _error(request, exc: ValidationError) -> None:
    messages.error(request, " ".join(exc.messages))


def _selected(request):
    ids = [value for value in request.POST.getlist("ids") if value.isdigit()]
    return Customer.objects.filter(pk__in=ids[: pool_services.MAX_BATCH + 1])


class PoolListView(PermissionMixin, View):
    """/pool/: the public customers of the pools the user sees (公用), or the claimed ones in the
    user's scope (已领用); search, pool filter, keyset paging; claim, batch assign/recall/delete."""

    permission = "pool.view"

    def get(self, request):
        user = request.user
        status = "claimed" if request.GET.get("status") == "claimed" else "public"
        query = request.GET.get("q", "").strip()[:100]
        pool_id = request.GET.get("pool", "")
        customers = pool_selectors.pool_customer_list(user=user, query=query, pool_id=pool_id, status=status)
        page = keyset_page(customers, request.GET.get("cursor"), pool_selectors.PAGE_SIZE)
        pools = list(pools_visible(user).order_by("-is_default", "pk"))
        can_assign = policy.can(user, "pool.transfer")
        can_decide = policy.can(user, "pool.edit")
        can_delete = policy.can(user, "pool.delete")
        context = {
            "page": page,
            "status": status,
            "query": query,
            "pool_id": pool_id,
            "pools": pools,
            "can_claim": policy.can(user, "pool.create"),
            "can_assign": can_assign,
            "can_delete": can_delete,
            # Rows get a checkbox when a batch action applies to this tab.
            "selectable": can_assign or (status == "public" and can_delete),
            "can_settings": policy.can(user, "pool.settings"),
            "can_decide": can_decide,
            "assignees": list(pool_selectors.assignable_users(user)[:500]) if can_assign else [],
            "pending_count": pool_selectors.applications_to_decide(user).count() if can_decide else 0,
            "limits": PoolSettings.load(),
            # Field permissions (ORG-8): the code is the only protectable field this list shows.
            "show_code": "code" not in field_policy.hidden_fields(user, "customers"),
        }
        return render(request, "customers/pool/list.html", context)


class PoolClaimView(PermissionMixin, View):
    permission = "pool.create"

    def post(self, request, pk):
        customer = pool_selectors.claimable_customer_get(user=request.user, customer_id=pk)
        try:
            result = pool_services.pool_claim(
                actor=request.user,
                customer=customer,
                reason=request.POST.get("reason", ""),
                ip=client_ip(request),
            )
        except ValidationError as exc:
            _error(request, exc)
        else:
            if isinstance(result, ClaimRequest):
                messages.success(
                    request, _("已提交领取“%(name)s”的申请，请等待审批。") % {"name": customer.name}
                )
            else:
                messages.success(request, _("已领取客户“%(name)s”。") % {"name": customer.name})
        return redirect(_back(request))


class PoolAssignView(PermissionMixin, View):
    permission = "pool.transfer"

    def post(self, request):
        to_user_id = request.POST.get("to_user", "")
        to_user = (
            policy.visible_users(request.user).filter(pk=to_user_id).first() if to_user_id.isdigit() else None
        )
        if to_user is None:
            messages.error(request, _("请选择要指派给的员工。"))
            return redirect(_back(request))
        try:
            count = pool_services.pool_assign(
                actor=request.user, customers=_selected(request), to_user=to_user, ip=client_ip(request)
            )
        except ValidationError as exc:
            _error(request, exc)
        else:
            messages.success(
                request,
                ngettext(
                    "已把 %(count)d 个客户指派给%(user)s。",
                    "已把 %(count)d 个客户指派给%(user)s。",
                    count,
                )
                % {"count": count, "user": to_user},
            )
        return redirect(_back(request))


class PoolRecallView(PermissionMixin, View):
    permission = "pool.transfer"

    def post(self, request):
        pool_id = request.POST.get("pool", "")
        pool = pools_visible(request.user).filter(pk=pool_id).first() if pool_id.isdigit() else None
        if pool is None:
            messages.error(request, _("请选择您可见的公海。"))
            return redirect(_back(request))
        try:
            count = pool_services.pool_recall(
                actor=request.user,
                customers=_selected(request),
                pool=pool,
                reason=request.POST.get("reason", ""),
                ip=client_ip(request),
            )
        except ValidationError as exc:
            _error(request, exc)
        else:
            messages.success(
                request,
                ngettext(
                    "已把 %(count)d 个客户收回到“%(pool)s”。",
                    "已把 %(count)d 个客户收回到“%(pool)s”。",
                    count,
                )
                % {"count": count, "pool": pool},
            )
        return redirect(_back(request))


class PoolDeleteView(PermissionMixin, View):
    permission = "pool.delete"

    def post(self, request):
        try:
            count = pool_services.pool_customers_delete(
                actor=request.user, customers=_selected(request), ip=client_ip(request)
            )
        except ValidationError as exc:
            _error(request, exc)
        else:
            messages.success(
                request,
                ngettext("已把 %(count)d 个客户移入回收站。", "已把 %(count)d 个客户移入回收站。", count)
                % {"count": count},
            )
        return redirect(_back(request))


class PoolReleaseView(PermissionMixin, View):
    """/pool/release/<id>/: the owner gives a customer back (退回公海). 404 for anyone else."""

    def get(self, request, pk):
        customer = pool_selectors.owned_customer_get(user=request.user, customer_id=pk)
        form = ReleaseForm(pools=pools_visible(request.user))
        return self._render(request, customer, form)

    def post(self, request, pk):
        customer = pool_selectors.owned_customer_get(user=request.user, customer_id=pk)
        form = ReleaseForm(request.POST, pools=pools_visible(request.user))
        if form.is_valid():
            try:
                pool_services.pool_release(
                    actor=request.user,
                    customer=customer,
                    reason=form.cleaned_data["reason"],
                    pool=form.cleaned_data["pool"],
                    ip=client_ip(request),
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("客户“%(name)s”已退回公海。") % {"name": customer.name})
                return redirect(_back(request))
        return self._render(request, customer, form, status=400)

    def _render(self, request, customer, form, status=200):
        context = {"customer": customer, "form": form, "next": request.GET.get("next", "")}
        return render(request, "customers/pool/release.html", context, status=status)


# ---------------------------------------------------------------- applications


class ApplicationListView(PermissionMixin, View):
    """Applications to decide (pool.edit) and the user's own applications."""

    permission = "pool.view"

    def get(self, request):
        user = request.user
        can_decide = policy.can(user, "pool.edit")
        page = (
            keyset_page(
                pool_selectors.applications_to_decide(user),
                request.GET.get("cursor"),
                pool_selectors.PAGE_SIZE,
            )
            if can_decide
            else None
        )
        context = {
            "page": page,
            "can_decide": can_decide,
            "mine": list(pool_selectors.applications_of(user)[:MY_APPLICATIONS_SHOWN]),
        }
        return render(request, "customers/pool/applications.html", context)


class ApplicationDecideView(PermissionMixin, View):
    permission = "pool.edit"
    approve = True

    def post(self, request, pk):
        application = pool_selectors.application_get(user=request.user, application_id=pk)
        service = pool_services.pool_approve if self.approve else pool_services.pool_reject
        try:
            service(
                actor=request.user,
                application=application,
                note=request.POST.get("note", ""),
                ip=client_ip(request),
            )
        except ValidationError as exc:
            _error(request, exc)
        else:
            values = {"user": application.applicant, "name": application.customer.name}
            if self.approve:
                messages.success(request, _("已批准%(user)s领取“%(name)s”。") % values)
            else:
                messages.success(request, _("已驳回%(user)s领取“%(name)s”的申请。") % values)
        return redirect(_back(request, reverse("pool:applications")))


# ---------------------------------------------------------------- settings


class PoolSettingsView(PermissionMixin, View):
    """Pools (who sees them, approval) and the claim limits."""

    permission = "pool.settings"

    def get(self, request):
        limits = PoolSettings.load()
        form = LimitsForm(
            initial={
                "max_owned": limits.max_owned,
                "max_claims_per_day": limits.max_claims_per_day,
                "reclaim_after_days": limits.reclaim_after_days,
            }
        )
        return self._render(request, form)

    def post(self, request):
        form = LimitsForm(request.POST)
        if form.is_valid():
            try:
                pool_services.pool_limits_update(
                    actor=request.user, ip=client_ip(request), **form.cleaned_data
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("领取限制已保存。"))
                return redirect("pool:settings")
        return self._render(request, form, status=400)

    def _render(self, request, form, status=200):
        context = {
            "form": form,
            "pools": pool_selectors.pools_for_settings(),
            "recycle_rules": recycle.rules_for_settings(),
        }
        return render(request, "customers/pool/settings.html", context, status=status)


class PoolFormView(ServiceFormView):
    create_permission = edit_permission = "pool.settings"
    template_name = "customers/pool/form.html"
    object_name = "pool"

    def load(self, pk):
        return pool_selectors.pool_get_for_settings(pool_id=pk)

    def get_form(self):
        return PoolForm(self.request.POST or None, pool=self.object)

    def save(self, form):
        return pool_services.pool_save(
            actor=self.request.user, pool=self.object, ip=client_ip(self.request), **form.cleaned_data
        )

    def success_message(self, saved):
        return _("公海“%(name)s”已保存。") % {"name": saved.name}

    def success_url(self, saved):
        return reverse("pool:settings")


class PoolRemoveView(PermissionMixin, View):
    permission = "pool.settings"

    def post(self, request, pk):
        pool = pool_selectors.pool_get_for_settings(pool_id=pk)
        try:
            pool_services.pool_remove(actor=request.user, pool=pool, ip=client_ip(request))
        except ValidationError as exc:
            _error(request, exc)
        else:
            messages.success(request, _("公海“%(name)s”已删除。") % {"name": pool.name})
        return redirect("pool:settings")
