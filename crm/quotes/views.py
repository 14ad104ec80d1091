"""Quote pages (QUO-1): list, form with dynamic lines (htmx), detail with status actions, print
view, and the customer's price history panel. Thin: reads through crm.quotes.selectors, writes
through crm.quotes.services."""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from crm.access import policy
from crm.access.policy import PermissionRequiredError
from crm.audit.services import client_ip
from crm.core.mixins import PermissionMixin
from crm.core.money import line_total, to_decimal, to_fen
from crm.customers.models import Contact
from crm.customers.selectors import customers_visible
from crm.opportunities.selectors import opportunities_visible
from crm.products.models import Product
from crm.products.pricing import price_for
from crm.quotes import selectors, services
from crm.quotes.forms import MAX_OPPORTUNITY_OPTIONS, QuoteForm, lines_from_post, opportunity_options
from crm.quotes.models import DEFAULT_TAX_PERCENT, Quote


def _products():
    return list(Product.objects.filter(is_active=True).order_by("code").only("pk", "code", "name", "unit"))


def _number(value):
    try:
        return to_decimal(value) if str(value or "").strip() else None
    except ValueError:
        return None


def _row(values: dict, *, customer=None, payment_term="", reprice=False) -> dict:
    """One line row for the form: the posted values plus the list and policy prices of the product
    for this customer, quantity and term (crm/products/pricing.price_for), and its amount."""
    row = dict(values)
    product_id = row.get("product")
    product = Product.objects.filter(pk=product_id).first() if isinstance(product_id, int) else None
    row["product_obj"] = product
    if product is None:
        return row
    quantity = _number(row.get("quantity")) or Decimal(1)
    if not row.get("quantity"):
        row["quantity"] = "1"
    quote = price_for(product, customer=customer, quantity=quantity, payment_term=payment_term or None)
    row["list_price"] = to_fen(product.list_price)
    row["policy_price"] = quote.unit_price
    row["explanation"] = quote.explanation
    row["unit"] = product.unit
    if reprice or not row.get("unit_price"):
        row["unit_price"] = str(quote.unit_price)
    try:
        row["amount"] = line_total(
            quantity, row["unit_price"], row.get("discount_percent") or 0, row.get("tax_percent") or 0
        )
    except ValueError:
        row["amount"] = None
    return row


def _visible_customer(user, customer_id):
    if not str(customer_id or "").isdigit():
        return None
    return customers_visible(user, include_pool=True).filter(pk=int(customer_id)).first()


def _visible_opportunity(user, opportunity_id):
    if not str(opportunity_id or "").isdigit():
        return None
    return opportunities_visible(user).filter(pk=int(opportunity_id)).first()


def _add_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


class QuoteListView(PermissionMixin, View):
    permission = "quotes.view"

    def get(self, request):
        status = request.GET.get("status", "")
        filters = selectors.QuoteFilters(q=request.GET.get("q", "")[:100], status=status)
        page = selectors.quote_page(user=request.user, filters=filters, cursor=request.GET.get("cursor"))
        return render(
            request,
            "quotes/list.html",
            {
                "page": page,
                "q": filters.q,
                "status": status,
                "statuses": Quote.Status.choices,
                "can_create": policy.can(request.user, "quotes.create"),
                "can_limits": policy.can(request.user, "roles.edit"),
            },
        )


class QuoteFormView(PermissionMixin, View):
    """New quote (quotes.create) or edit a draft (quotes.edit)."""

    def dispatch(self, request, *args, pk=None, **kwargs):
        self.pk = pk
        self.permission = "quotes.edit" if pk else "quotes.create"
        return super().dispatch(request, *args, **kwargs)

    def _load(self):
        if not self.pk:
            return None
        quote = selectors.quote_get_for_user(user=self.request.user, quote_id=self.pk)
        if not policy.can(self.request.user, "quotes.edit", quote) or not quote.is_editable:
            raise PermissionDenied
        return quote

    def get(self, request):
        quote = self._load()
        if quote is not None:
            initial = {
                key: getattr(quote, key)
                for key in ("customer", "contact", "opportunity", "valid_until", "payment_term")
            }
            initial |= {"tax_percent": quote.tax_percent, "note": quote.note}
            rows = [
                {
                    "product": line.product_id,
                    "quantity": str(line.quantity),
                    "unit_price": str(line.unit_price),
                    "discount_percent": str(line.discount_percent),
                    "tax_percent": str(line.tax_percent),
                    "description": line.description,
                }
                for line in selectors.quote_lines(quote)
            ]
        else:
            customer = _visible_customer(request.user, request.GET.get("customer"))
            opportunity = _visible_opportunity(request.user, request.GET.get("opportunity"))
            if opportunity is not None and customer is None:
                customer = _visible_customer(request.user, opportunity.customer_id)
            if opportunity is not None and (customer is None or opportunity.customer_id != customer.pk):
                opportunity = None
            initial = {
                "customer": customer,
                "opportunity": opportunity,
                "valid_until": timezone.localdate() + timedelta(days=services.DEFAULT_VALID_DAYS),
                "tax_percent": DEFAULT_TAX_PERCENT,
            }
            rows = [{"tax_percent": str(DEFAULT_TAX_PERCENT), "discount_percent": "0"}]
        form = QuoteForm(initial=initial, user=request.user, quote=quote)
        customer = quote.customer if quote else initial.get("customer")
        payment_term = quote.payment_term if quote else ""
        return self.render(form, quote, [_row(r, customer=customer, payment_term=payment_term) for r in rows])

    def post(self, request):
        quote = self._load()
        form = QuoteForm(request.POST, user=request.user, quote=quote)
        lines = lines_from_post(request.POST)
        if form.is_valid():
            values = dict(form.cleaned_data)
            ip = client_ip(request)
            try:
                if quote is None:
                    saved = services.quote_create(actor=request.user, values=values, lines=lines, ip=ip)
                else:
                    saved = services.quote_update(
                        actor=request.user, quote=quote, values=values, lines=lines, ip=ip
                    )
            except PermissionRequiredError as exc:
                raise PermissionDenied from exc
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("报价单“%(code)s”已保存。") % {"code": saved.code})
                return redirect("quotes:detail", saved.pk)
        customer = _visible_customer(request.user, request.POST.get("customer"))
        term = request.POST.get("payment_term", "")
        rows = [_row(r, customer=customer, payment_term=term) for r in lines] or [
            {"tax_percent": request.POST.get("tax_percent", ""), "discount_percent": "0"}
        ]
        return self.render(form, quote, rows, status=400)

    def render(self, form, quote, rows, status=200):
        context = {"form": form, "quote": quote, "rows": rows, "products": _products()}
        return render(self.request, "quotes/form.html", context, status=status)


class QuoteLineRowView(PermissionMixin, View):
    """htmx: one line row, priced for the chosen product, customer, quantity and payment term.
    Choosing a product fills the unit price with the policy price; other changes keep it."""

    def get(self, request):
        if not (policy.can(request.user, "quotes.create") or policy.can(request.user, "quotes.edit")):
            raise PermissionDenied
        product = request.GET.get("line_product", "")
        values = {
            "product": int(product) if product.isdigit() else None,
            "quantity": request.GET.get("line_quantity", ""),
            "unit_price": request.GET.get("line_unit_price", ""),
            "discount_percent": request.GET.get("line_discount", "") or "0",
            "tax_percent": request.GET.get("line_tax", "") or request.GET.get("tax_percent", ""),
            "description": request.GET.get("line_description", ""),
        }
        customer = _visible_customer(request.user, request.GET.get("customer"))
        reprice = request.headers.get("HX-Trigger-Name") == "line_product"
        row = _row(
            values, customer=customer, payment_term=request.GET.get("payment_term", ""), reprice=reprice
        )
        return render(request, "quotes/_line_row.html", {"row": row, "products": _products()})


class ContactOptionsView(PermissionMixin, View):
    """htmx: the contact options of the chosen customer."""

    permission = "quotes.view"

    def get(self, request):
        customer = _visible_customer(request.user, request.GET.get("customer"))
        contacts = (
            Contact.objects.filter(customer=customer).order_by("-is_primary", "name") if customer else []
        )
        return render(request, "quotes/_contact_options.html", {"contacts": contacts})


class OpportunityOptionsView(PermissionMixin, View):
    """htmx: the opportunity options of the chosen customer (those visible to the user)."""

    permission = "quotes.view"

    def get(self, request):
        customer = _visible_customer(request.user, request.GET.get("customer"))
        options = opportunity_options(request.user, customer.pk if customer else None)
        return render(
            request,
            "quotes/_opportunity_options.html",
            {"opportunities": options[:MAX_OPPORTUNITY_OPTIONS] if customer else []},
        )


class PriceHistoryView(PermissionMixin, View):
    """The customer's price history panel (on the quote form and on the customer detail page)."""

    permission = "quotes.view"

    def get(self, request):
        customer_id = request.GET.get("customer", "")
        customer = _visible_customer(request.user, customer_id)
        if customer is None and customer_id:
            raise Http404
        product_id = request.GET.get("product", "")
        product = Product.objects.filter(pk=int(product_id)).first() if product_id.isdigit() else None
        rows = selectors.price_history(customer, product, user=request.user) if customer else []
        return render(
            request,
            "quotes/_price_history_table.html",
            {"history": rows, "history_customer": customer, "history_limit": selectors.HISTORY_LIMIT},
        )


def _detail_context(request, quote) -> dict:
    user = request.user
    can_edit = policy.can(user, "quotes.edit", quote)
    return {
        "quote": quote,
        "lines": selectors.quote_lines(quote),
        "can_edit": can_edit and quote.is_editable,
        "can_send": can_edit and quote.status == Quote.Status.DRAFT,
        "can_decide": can_edit and quote.status == Quote.Status.SENT,
        "can_copy": policy.can(user, "quotes.create"),
        "can_delete": policy.can(user, "quotes.delete", quote) and quote.status != Quote.Status.ACCEPTED,
        "can_print": policy.can(user, "quotes.print"),
        "opportunity_visible": bool(quote.opportunity_id)
        and opportunities_visible(user).filter(pk=quote.opportunity_id).exists(),
    }


class QuoteDetailView(PermissionMixin, View):
    permission = "quotes.view"

    def get(self, request, pk):
        quote = selectors.quote_get_for_user(user=request.user, quote_id=pk)
        return render(request, "quotes/detail.html", _detail_context(request, quote))


class QuoteActionView(PermissionMixin, View):
    """POST action = send / accept / reject / copy / delete from the detail page."""

    permission = "quotes.view"
    ACTIONS = {
        "send": (services.quote_send, gettext_lazy("报价单已标记为已发送。")),
        "accept": (services.quote_accept, gettext_lazy("报价单已标记为客户接受。")),
        "reject": (services.quote_reject, gettext_lazy("报价单已标记为客户拒绝。")),
    }

    def post(self, request, pk):
        quote = selectors.quote_get_for_user(user=request.user, quote_id=pk)
        action = request.POST.get("action", "")
        ip = client_ip(request)
        try:
            if action in self.ACTIONS:
                function, message = self.ACTIONS[action]
                function(actor=request.user, quote=quote, ip=ip)
                messages.success(request, message)
            elif action == "copy":
                copy = services.quote_copy(actor=request.user, quote=quote, ip=ip)
                messages.success(request, _("已复制为新报价单“%(code)s”。") % {"code": copy.code})
                return redirect("quotes:edit", copy.pk)
            elif action == "delete":
                services.quote_delete(actor=request.user, quote=quote, ip=ip)
                messages.success(request, _("报价单“%(code)s”已删除。") % {"code": quote.code})
                return redirect("quotes:list")
            else:
                raise Http404
        except PermissionRequiredError as exc:
            raise PermissionDenied from exc
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect("quotes:detail", quote.pk)


class QuotePrintView(PermissionMixin, View):
    """A clean A4 page (CSS @page) with the same stored, rounded figures as the detail and the API."""

    permission = "quotes.print"

    def get(self, request, pk):
        quote = selectors.quote_get_for_user(user=request.user, quote_id=pk)
        company = getattr(settings, "CRM_COMPANY_NAME", None) or settings.CRM_SITE_NAME
        return render(
            request,
            "quotes/print.html",
            {"quote": quote, "lines": selectors.quote_lines(quote), "company": company},
        )


class DiscountLimitView(PermissionMixin, View):
    """报价折扣权限: how far below the policy price each role may quote (roles.edit)."""

    permission = "roles.edit"

    def _rows(self, posted=None):
        from crm.accounts.models import Role

        roles = Role.objects.filter(is_super=False).select_related("quote_limit").order_by("name")
        rows = []
        for role in roles:
            current = getattr(role, "quote_limit", None)
            value = current.max_discount_percent if current else services.DEFAULT_MAX_DISCOUNT_PERCENT
            rows.append({"role": role, "value": posted.get(f"limit_{role.pk}", value) if posted else value})
        return rows

    def get(self, request):
        return render(request, "quotes/discount_limits.html", {"rows": self._rows()})

    def post(self, request):
        rows = self._rows(request.POST)
        try:
            with transaction.atomic():
                for row in rows:
                    role = row["role"]
                    current = getattr(role, "quote_limit", None)
                    old = current.max_discount_percent if current else services.DEFAULT_MAX_DISCOUNT_PERCENT
                    if str(row["value"]).strip() != str(old):
                        services.role_limit_set(
                            actor=request.user,
                            role=role,
                            max_discount_percent=row["value"],
                            ip=client_ip(request),
                        )
        except ValidationError as exc:
            messages.error(
                request, _("角色“%(role)s”：%(error)s") % {"role": role.name, "error": " ".join(exc.messages)}
            )
            return render(request, "quotes/discount_limits.html", {"rows": rows}, status=400)
        messages.success(request, _("报价折扣权限已保存。"))
        return redirect("quotes:discount_limits")
