"""The quote header form; the lines come as parallel lists (line_product, line_quantity, …) from
the dynamic rows of the form page and are validated by crm.quotes.services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.customers.models import Contact, Customer
from crm.customers.selectors import customers_visible
from crm.opportunities.models import Opportunity
from crm.opportunities.selectors import opportunities_visible
from crm.quotes.models import Quote

MAX_CUSTOMER_OPTIONS = 300
MAX_OPPORTUNITY_OPTIONS = 100
LINE_KEYS = {
    "product": "line_product",
    "quantity": "line_quantity",
    "unit_price": "line_unit_price",
    "discount_percent": "line_discount",
    "tax_percent": "line_tax",
    "description": "line_description",
}


class QuoteForm(forms.Form):
    customer = forms.ModelChoiceField(
        label=_("客户"),
        queryset=Customer.objects.none(),
        error_messages={"invalid_choice": _("请选择有效的客户。")},
    )
    contact = forms.ModelChoiceField(label=_("联系人"), queryset=Contact.objects.all(), required=False)
    opportunity = forms.ModelChoiceField(
        label=_("商机"),
        queryset=Opportunity.objects.none(),
        required=False,
        error_messages={"invalid_choice": _("请选择该客户的、您可以查看的商机。")},
    )
    valid_until = forms.DateField(
        label=_("有效期至"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    payment_term = forms.ChoiceField(
        label=_("付款条件"), choices=[("", _("不限"))] + list(Quote.PaymentTerm.choices), required=False
    )
    tax_percent = forms.DecimalField(label=_("税率(%)"), min_value=0, max_value=100, decimal_places=2)
    note = forms.CharField(
        label=_("备注"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, user, quote=None, **kwargs):
        super().__init__(*args, **kwargs)
        visible = customers_visible(user, include_pool=True)
        self.fields["customer"].queryset = visible
        # A select of every visible customer would be huge: offer the first ones by name (and the
        # current one); any visible customer id still validates.
        options = list(visible.order_by("name", "pk").values_list("pk", "name")[:MAX_CUSTOMER_OPTIONS])
        current = self._current("customer", quote.customer_id if quote else None)
        if current and current not in {pk for pk, _name in options}:
            options += list(visible.filter(pk=current).values_list("pk", "name"))
        self.fields["customer"].widget.choices = [("", "---------")] + options
        self.fields["customer"].widget.attrs.update({"data-testid": "quote-customer"})
        contacts = (
            Contact.objects.filter(customer_id=current).order_by("-is_primary", "name") if current else []
        )
        self.fields["contact"].widget.choices = [("", "---------")] + [(c.pk, c.name) for c in contacts]
        # Only the chosen customer's opportunities the user may see (validated again by the service).
        opportunities = opportunity_options(user, current)
        self.fields["opportunity"].queryset = opportunities
        self.fields["opportunity"].widget.choices = [("", "---------")] + [
            (o.pk, f"{o.code} {o.name}") for o in opportunities[:MAX_OPPORTUNITY_OPTIONS]
        ]

    def _current(self, name, default):
        value = self.data.get(name) if self.is_bound else self.initial.get(name, default)
        value = getattr(value, "pk", value)
        return int(value) if str(value or "").isdigit() else default


def opportunity_options(user, customer_id):
    """The customer's opportunities visible to `user`, newest first (none without a customer)."""
    if not customer_id:
        return Opportunity.objects.none()
    return opportunities_visible(user).filter(customer_id=customer_id).order_by("-created_at", "-pk")


def lines_from_post(data) -> list[dict]:
    """The posted line rows as dicts for the service; empty rows are skipped."""
    columns = {key: data.getlist(name) for key, name in LINE_KEYS.items()}
    count = max((len(values) for values in columns.values()), default=0)
    rows = []
    for index in range(count):
        row = {key: (values[index] if index < len(values) else "").strip() for key, values in columns.items()}
        if not any(row[key] for key in ("product", "quantity", "unit_price", "description")):
            continue  # an empty row (its discount and tax inputs come pre-filled)
        product = row["product"]
        row["product"] = int(product) if product.isdigit() else None
        rows.append(row)
    return rows
