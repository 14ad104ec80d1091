"""Thin views: parse input, call a service or selector, render."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from crm.access import policy
from crm.activities import selectors, services
from crm.activities.forms import (
    AttachmentForm,
    CommentForm,
    FollowUpFilterForm,
    FollowUpForm,
    TemplateForm,
)
from crm.core.mixins import PermissionMixin, ServiceFormView, client_ip
from crm.customers.models import Customer
from crm.customers.search import search_q
from crm.customers.selectors import customer_get_for_user, customers_visible

# ---------------------------------------------------------------- list and detail


class FollowUpListView(PermissionMixin, View):
    permission = "activities.view"

    def get(self, request):
        form = FollowUpFilterForm(request.GET or None, user=request.user)
        data = form.cleaned_data if form.is_valid() else {}
        customer = None
        if data.get("customer"):
            customer = customer_get_for_user(user=request.user, customer_id=data["customer"])
        filters = selectors.FollowUpFilters(
            type_id=data["type"].pk if data.get("type") else None,
            author_id=data["author"].pk if data.get("author") else None,
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            customer_query=(data.get("q") or "").strip(),
            customer_id=customer.pk if customer else None,
        )
        page = selectors.followup_page(user=request.user, filters=filters, cursor=request.GET.get("cursor"))
        context = {
            "form": form,
            "page": page,
            "customer": customer,
            "can_create": policy.can(request.user, "activities.create"),
        }
        return render(request, "activities/list.html", context)


class FollowUpDetailView(PermissionMixin, View):
    permission = "activities.view"

    def get(self, request, pk):
        followup = selectors.followup_detail(user=request.user, followup_id=pk)
        return render(request, "activities/detail.html", self.context(request, followup))

    @staticmethod
    def context(request, followup, comment_form=None, attachment_form=None) -> dict:
        may_change = policy.can(request.user, "activities.edit") and services.can_change_followup(
            request.user, followup
        )
        return {
            "followup": followup,
            "comment_form": comment_form or CommentForm(),
            "attachment_form": attachment_form or AttachmentForm(),
            "can_comment": services.can_comment(request.user, followup),
            "can_edit": may_change,
            "can_delete": policy.can(request.user, "activities.delete")
            and services.can_change_followup(request.user, followup),
        }


# ---------------------------------------------------------------- add / edit


def _pick_customer(request):
    """The add page without ?customer=: search the customers the user may see (at most 20)."""
    query = request.GET.get("q", "").strip()[:100]
    found = []
    if query:
        # A field hidden from the user (ORG-8) is not searched either.
        hidden = policy.hidden_fields(request.user, "customers")
        found = list(
            customers_visible(request.user).filter(search_q(query, hidden=hidden)).order_by("name", "pk")[:20]
        )
    return render(request, "activities/pick_customer.html", {"query": query, "found": found})


class FollowUpFormView(ServiceFormView):
    template_name = "activities/form.html"
    create_permission = "activities.create"
    edit_permission = "activities.edit"
    object_name = "followup"

    def get(self, request):
        if not self.pk and not request.GET.get("customer"):
            return _pick_customer(request)
        return super().get(request)

    def load(self, pk):
        followup = selectors.followup_get_for_user(user=self.request.user, followup_id=pk)
        if not services.can_change_followup(self.request.user, followup):
            raise Http404
        return followup

    @property
    def customer(self) -> Customer:
        if not hasattr(self, "_customer"):
            if self.object is not None:
                self._customer = self.object.customer
            else:
                self._customer = customer_get_for_user(
                    user=self.request.user, customer_id=self.request.GET.get("customer"), write=True
                )
        return self._customer

    def get_form(self):
        request = self.request
        if request.method == "POST":
            return FollowUpForm(
                request.POST, request.FILES, customer=self.customer, with_files=self.object is None
            )
        if self.object is not None:
            fu = self.object
            initial = {
                "type": fu.type_id,
                "contact": fu.contact_id,
                "content": fu.content,
                "followed_at": timezone.localtime(fu.followed_at),
                "next_contact_at": timezone.localtime(fu.next_contact_at) if fu.next_contact_at else None,
                "next_action": fu.next_action,
            }
        else:
            initial = {"followed_at": timezone.localtime().replace(second=0, microsecond=0)}
            template_id = request.GET.get("template")
            if template_id:
                template = selectors.template_get_for_user(user=request.user, template_id=template_id)
                initial |= {"content": template.content, "type": template.type_id}
        return FollowUpForm(initial=initial, customer=self.customer, with_files=self.object is None)

    def extra_context(self, form) -> dict:
        return {
            "customer": self.customer,
            "templates": list(selectors.templates_visible(self.request.user)[:100])
            if self.object is None
            else [],
        }

    def save(self, form):
        data = form.cleaned_data
        values = {
            "type": data["type"],
            "contact": data.get("contact"),
            "content": data.get("content") or "",
            "followed_at": data["followed_at"],
            "next_contact_at": data.get("next_contact_at"),
            "next_action": data.get("next_action") or "",
            "ip": client_ip(self.request),
        }
        if self.object is None:
            return services.followup_create(
                actor=self.request.user, customer_id=self.customer.pk, files=data.get("file") or [], **values
            )
        return services.followup_update(actor=self.request.user, followup=self.object, **values)

    def success_message(self, saved) -> str:
        return _("跟进记录已保存。")

    def success_url(self, saved) -> str:
        return reverse("activities:detail", args=[saved.pk])


class FollowUpDeleteView(PermissionMixin, View):
    permission = "activities.delete"

    def post(self, request, pk):
        followup = selectors.followup_get_for_user(user=request.user, followup_id=pk)
        try:
            services.followup_delete(actor=request.user, followup=followup, ip=client_ip(request))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("activities:detail", pk=pk)
        messages.success(request, _("跟进记录已删除。"))
        return redirect(f"{reverse('activities:list')}?customer={followup.customer_id}")


# ---------------------------------------------------------------- comments and attachments


class CommentCreateView(PermissionMixin, View):
    permission = "activities.view"

    def post(self, request, pk):
        followup = selectors.followup_get_for_user(user=request.user, followup_id=pk)
        form = CommentForm(request.POST)
        if form.is_valid():
            try:
                services.comment_create(
                    actor=request.user,
                    followup=followup,
                    content=form.cleaned_data["content"],
                    ip=client_ip(request),
                )
            except policy.PermissionRequiredError:
                raise Http404 from None
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("点评已发表。"))
                return redirect("activities:detail", pk=pk)
        followup = selectors.followup_detail(user=request.user, followup_id=pk)
        context = FollowUpDetailView.context(request, followup, comment_form=form)
        return render(request, "activities/detail.html", context, status=400)


class AttachmentUploadView(PermissionMixin, View):
    permission = "activities.edit"

    def post(self, request, pk):
        followup = selectors.followup_get_for_user(user=request.user, followup_id=pk)
        form = AttachmentForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.attachment_add(
                    actor=request.user,
                    followup=followup,
                    upload=form.cleaned_data["file"],
                    ip=client_ip(request),
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("附件已上传。"))
                return redirect("activities:detail", pk=pk)
        followup = selectors.followup_detail(user=request.user, followup_id=pk)
        context = FollowUpDetailView.context(request, followup, attachment_form=form)
        return render(request, "activities/detail.html", context, status=400)


class AttachmentDownloadView(PermissionMixin, View):
    permission = "activities.view"

    def get(self, request, pk):
        attachment = selectors.attachment_get_for_user(user=request.user, attachment_id=pk)
        try:
            handle = attachment.file.open("rb")
        except FileNotFoundError as exc:
            raise Http404 from exc
        response = FileResponse(
            handle,
            as_attachment=True,
            filename=attachment.original_name,
            content_type=attachment.content_type or "application/octet-stream",
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response


# ---------------------------------------------------------------- reminder lists (FUP-4)


class ReminderListView(PermissionMixin, View):
    permission = "activities.view"

    def get(self, request):
        tab = request.GET.get("tab", "today")
        if tab not in selectors.REMINDER_TABS:
            tab = "today"
        if tab in ("today", "overdue"):
            rows = selectors.customers_to_contact(user=request.user, tab=tab)
        else:
            rows = selectors.pending_actions(user=request.user, action=tab)
        counts = selectors.reminder_counts(user=request.user)
        paginator = Paginator(rows, selectors.REMINDER_PAGE_SIZE)
        page = paginator.get_page(request.GET.get("page"))
        tabs = [
            {"key": key, "label": _label(key), "count": counts[key], "active": key == tab}
            for key in selectors.REMINDER_TABS
        ]
        context = {"tab": tab, "tabs": tabs, "page": page, "is_customer_tab": tab in ("today", "overdue")}
        # Field permissions (ORG-8): contacts' phones and e-mails as the user may see them in lists.
        context["contact_fields"] = policy.field_access(request.user, "contacts", "list")
        return render(request, "activities/reminders.html", context)


def _label(key: str) -> str:
    return {
        "today": _("今日待联系"),
        "overdue": _("已逾期"),
        "call": _("待打电话"),
        "email": _("待发邮件"),
    }[key]


# ---------------------------------------------------------------- templates (FUP-3)


class TemplateListView(PermissionMixin, View):
    permission = "activities.view"

    def get(self, request):
        paginator = Paginator(selectors.templates_visible(request.user).order_by("title", "pk"), 20)
        page = paginator.get_page(request.GET.get("page"))
        context = {
            "page": page,
            "can_create": policy.can(request.user, "activities.create"),
            "is_admin": services.is_admin(request.user),
        }
        return render(request, "activities/templates/list.html", context)


class TemplateFormView(ServiceFormView):
    template_name = "activities/templates/form.html"
    create_permission = "activities.create"
    edit_permission = "activities.view"
    object_name = "template"

    def load(self, pk):
        template = selectors.template_get_for_user(user=self.request.user, template_id=pk)
        if template.owner_id != self.request.user.pk and not services.is_admin(self.request.user):
            raise Http404
        return template

    def get_form(self):
        if self.request.method == "POST":
            return TemplateForm(self.request.POST)
        if self.object is None:
            return TemplateForm()
        t = self.object
        return TemplateForm(
            initial={"title": t.title, "type": t.type_id, "content": t.content, "is_shared": t.is_shared}
        )

    def save(self, form):
        data = form.cleaned_data
        values = {
            "title": data["title"],
            "content": data["content"],
            "type": data.get("type"),
            "is_shared": data.get("is_shared", False),
            "ip": client_ip(self.request),
        }
        if self.object is None:
            return services.template_create(actor=self.request.user, **values)
        return services.template_update(actor=self.request.user, template=self.object, **values)

    def success_message(self, saved) -> str:
        return _("跟进模板已保存。")

    def success_url(self, saved) -> str:
        return reverse("activities:templates")


class TemplateDeleteView(PermissionMixin, View):
    permission = "activities.view"

    def post(self, request, pk):
        template = selectors.template_get_for_user(user=request.user, template_id=pk)
        try:
            services.template_delete(actor=request.user, template=template, ip=client_ip(request))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("跟进模板已删除。"))
        return redirect("activities:templates")
