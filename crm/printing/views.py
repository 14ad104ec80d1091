"""Printing (CUS-17): the customer print view, list selections, envelope templates and envelopes."""

from django.contrib import messages
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from crm.access import field_policy, policy
from crm.access.fields import catalogue
from crm.activities.selectors import followups_for_customer
from crm.core.mixins import PermissionMixin, ServiceFormView, client_ip
from crm.customers import selectors as customer_selectors
from crm.customfields import display as customfield_display
from crm.printing import selectors, services
from crm.printing.forms import EnvelopeTemplateForm
from crm.printing.models import EnvelopeTemplate
from crm.printing.placeholders import help_items

# Shown in the print heading or its own section, not in the field grid.
NOT_IN_GRID = {"name", "remark"}

# The customer list's columns (crm/customers/views.py COLUMNS) as the printed table shows them.
LIST_COLUMNS = (
    ("code", gettext_lazy("客户编号")),
    ("status", gettext_lazy("客户状态")),
    ("value_level", gettext_lazy("价值等级")),
    ("stage", gettext_lazy("跟进程度")),
    ("owner", gettext_lazy("负责人")),
    ("last_followup_at", gettext_lazy("最近跟进")),
    ("next_contact_at", gettext_lazy("下次联系")),
    ("created_at", gettext_lazy("创建时间")),
)


def _shown(value):
    if value is None or value == "":
        return None
    if hasattr(value, "normalize"):  # Decimal
        return f"{value:,.2f}"
    return value


def customer_fields(customer, access) -> list[tuple[str, object]]:
    """(label, value) of every built-in field the user may see, masked where it must be."""
    rows = []
    for field in catalogue("customers", include_custom=False):
        if field.name in NOT_IN_GRID or not access.visible(field.name):
            continue
        model_field = customer._meta.get_field(field.name)
        value = (
            getattr(customer, f"get_{field.name}_display")()
            if model_field.choices
            else getattr(customer, field.name)
        )
        rows.append((field.label, _shown(access.display(field.name, value))))
    return rows


class CustomerPrintView(PermissionMixin, View):
    """One customer on A4: fields, custom fields, contacts and the last 20 follow-ups."""

    permission = "customers.print"

    def get(self, request, pk):
        user = request.user
        customer = customer_selectors.customer_get_for_user(user=user, customer_id=pk)
        access = field_policy.field_access(user, "customers", field_policy.DETAIL)
        contact_access = field_policy.field_access(user, "contacts", field_policy.LIST)
        contacts = customer_selectors.contacts_of(customer)
        contact_columns = [
            (f.name, f.label)
            for f in catalogue("contacts", include_custom=False)
            if f.name in ("name", "title", "department", "mobile", "phone", "email")
            and contact_access.visible(f.name)
        ]
        contact_rows = [
            {
                "primary": c.is_primary,
                "cells": [
                    _shown(contact_access.display(name, getattr(c, name))) for name, _l in contact_columns
                ],
            }
            for c in contacts
        ]
        services.customers_printed(
            actor=user, customers=[customer], what=_("打印客户资料"), ip_address=client_ip(request)
        )
        return render(
            request,
            "printing/customer.html",
            {
                "customer": customer,
                "fields": customer_fields(customer, access),
                "custom_fields": customfield_display.detail_rows("customers", customer.custom_data, access),
                "show_remark": access.visible("remark"),
                "contact_columns": contact_columns,
                "contact_rows": contact_rows,
                "followups": followups_for_customer(user, customer, limit=20),
            },
        )


def _list_columns(user, request) -> tuple[list[tuple[str, str]], list]:
    """The columns the customer list showed: its query string travels in the bulk form's `next`."""
    hidden = field_policy.hidden_fields(user, "customers")
    target = request.POST.get("next", "")
    query = QueryDict(target.split("?", 1)[1] if "?" in target else "")
    keys = [key for key, _label in LIST_COLUMNS if key not in hidden]
    if query.get("cc_set"):
        chosen = set(query.getlist("cols")[:50])
        keys = [key for key in keys if key in chosen]
        custom_chosen = query.getlist("cc")[:50]
    else:
        custom_chosen = None
    columns = [(key, label) for key, label in LIST_COLUMNS if key in keys]
    custom = [f for f in customfield_display.list_columns("customers", custom_chosen) if f.path not in hidden]
    return columns, custom


class CustomerListPrintView(PermissionMixin, View):
    """The ticked customers as a printed table with the list's visible columns."""

    permission = "customers.print"

    def post(self, request):
        user = request.user
        customers = selectors.customers_for_print(user, selectors.parse_ids(request.POST.getlist("ids")))
        if not customers:
            messages.error(request, _("请先勾选要打印的客户。"))
            return redirect("customers:list")
        columns, custom = _list_columns(user, request)
        access = field_policy.field_access(user, "customers", field_policy.LIST)
        customfield_display.annotate_rows(customers, custom, access)
        services.customers_printed(
            actor=user, customers=customers, what=_("打印客户列表"), ip_address=client_ip(request)
        )
        return render(
            request,
            "printing/customers.html",
            {
                "customers": customers,
                "show": {key: True for key, _label in columns},
                "columns": columns,
                "custom_columns": custom,
            },
        )


class EnvelopePrintView(PermissionMixin, View):
    """Envelopes for one or many customers: each envelope is one printed page of the template's
    size. GET (from a customer's page) or POST (from the list's bulk bar) with `ids`."""

    permission = "customers.print"

    def get(self, request):
        return self.show(request, request.GET)

    def post(self, request):
        return self.show(request, request.POST)

    def show(self, request, data):
        user = request.user
        ids = selectors.parse_ids(data.getlist("ids"))
        customers = selectors.customers_for_print(user, ids)
        all_templates = list(selectors.templates())
        chosen = data.get("template")
        template = next((t for t in all_templates if str(t.pk) == chosen), None) if chosen else None
        if template is None:
            template = next(
                (t for t in all_templates if t.is_default), all_templates[0] if all_templates else None
            )
        context = {
            "template": template,
            "templates": all_templates,
            "customers": customers,
            "ids": [c.pk for c in customers],
            "can_design": policy.can(user, "customers.settings"),
        }
        if chosen and template is not None and str(template.pk) != chosen:
            context["error"] = _("所选的信封模板不存在，已改用默认模板。")
        if not customers:
            context["error"] = _("没有可打印信封的客户：请先勾选你能查看的客户。")
            return render(request, "printing/envelopes.html", context, status=400)
        if template is None:
            context["error"] = _("还没有信封模板，请管理员先在“信封模板”中新建一个。")
            return render(request, "printing/envelopes.html", context, status=400)
        context["envelopes"] = selectors.envelopes(user, template, customers)
        services.customers_printed(
            actor=user,
            customers=customers,
            what=_("打印信封（%(template)s）") % {"template": template.name},
            ip_address=client_ip(request),
        )
        return render(request, "printing/envelopes.html", context)


# ---------------------------------------------------------------- envelope templates (admins)


class EnvelopeTemplateListView(PermissionMixin, View):
    permission = "customers.settings"

    def get(self, request):
        return render(request, "printing/envelopes/list.html", {"templates": selectors.templates()})


class EnvelopeTemplateFormView(ServiceFormView):
    template_name = "printing/envelopes/form.html"
    create_permission = "customers.settings"
    edit_permission = "customers.settings"
    object_name = "envelope_template"

    def load(self, pk):
        return get_object_or_404(EnvelopeTemplate, pk=pk)

    def get_form(self):
        data = self.request.POST if self.request.method == "POST" else None
        initial = None
        if self.object is None and data is None:
            initial = {
                "recipient_text": "{{地址}}\n\n{{客户名称}}\n{{联系人}} 收",
                "sender_text": "{{公司名称}}\n{{寄件人}}",
            }
        return EnvelopeTemplateForm(data, instance=self.object, initial=initial)

    def save(self, form):
        values = {name: form.cleaned_data[name] for name in form.Meta.fields}
        ip = client_ip(self.request)
        if self.object is None:
            return services.envelope_template_create(actor=self.request.user, values=values, ip_address=ip)
        return services.envelope_template_update(
            actor=self.request.user, template=self.object, values=values, ip_address=ip
        )

    def extra_context(self, form):
        preview = None
        template = form.instance if self.object is None else self.object
        if not form.is_bound:
            if self.object is None:
                template = EnvelopeTemplate(**{k: v for k, v in form.initial.items()})
            preview = selectors.sample_envelope(template)
        return {"preview_template": template, "preview": preview, "placeholders": help_items()}

    def success_message(self, saved):
        return _("已保存信封模板“%(name)s”。") % {"name": saved.name}

    def success_url(self, saved):
        return reverse("printing:envelope_templates")


class EnvelopeTemplatePreviewView(PermissionMixin, View):
    """The live preview beside the editor (htmx): the unsaved form drawn with a sample customer."""

    permission = "customers.settings"

    def post(self, request):
        form = EnvelopeTemplateForm(request.POST)
        form.validate_unique = lambda: None  # the name is checked on save; the preview reads no rows
        form.is_valid()  # fills form.instance with what could be read
        template = form.instance
        if template.paper in selectors.PAPER_SIZES:
            template.width_mm, template.height_mm = selectors.paper_size(template.paper)
        errors = [str(e) for errors in form.errors.values() for e in errors]
        preview = None
        if template.width_mm and template.height_mm:
            preview = selectors.sample_envelope(template)
        return render(
            request,
            "printing/envelopes/_preview.html",
            {"preview_template": template, "preview": preview, "errors": errors},
        )


class EnvelopeTemplateDeleteView(PermissionMixin, View):
    permission = "customers.settings"

    def post(self, request, pk):
        template = get_object_or_404(EnvelopeTemplate, pk=pk)
        services.envelope_template_delete(
            actor=request.user, template=template, ip_address=client_ip(request)
        )
        messages.success(request, _("已删除信封模板“%(name)s”。") % {"name": template.name})
        return redirect("printing:envelope_templates")
