"""What each list exports (SYS-3): its permission, the rows the list page shows for a query string,
and the exportable columns.

Rows always come through the list's own selector and filter code (the same `*_visible(user)`
scope as the page), so an export holds exactly what the user could page through. Headers are the
labels the UI uses (model verbose names, custom-field labels): the importer matches columns by
them. Values are plain: choices → their label, related records → their name, dates ISO, money a
number. Customers and contacts drop the fields hidden from the user and mask what lists mask
(ORG-8).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from django.db.models import Model, QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

VISIBLE = "visible"
ALL = "all"


class BadParamsError(ValueError):
    """The list's query string cannot be used (an unknown filter field, a bad sort)."""


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    value: Callable[[Any], Any]
    related: tuple[str, ...] = ()
    # The model fields the value reads ("name", "owner__username"): when every column names them,
    # the export loads only those (no pinyin columns, no timestamps of related rows).
    only: tuple[str, ...] | None = None
    # The same value computed from those fields' values (in `only`'s order), for the fast path
    # that reads plain tuples (values_list) instead of building model instances.
    from_values: Callable[..., Any] | None = None


@dataclass
class Columns:
    """The columns of one export, and an optional hook run once per chunk of rows before the rows
    are read (to look up names for a whole chunk in one query)."""

    columns: list[Column]
    prepare_chunk: Callable[[list], None] | None = None
    prefetch: tuple = field(default_factory=tuple)

    @property
    def related(self) -> list[str]:
        return sorted({path for column in self.columns for path in column.related})

    @property
    def only(self) -> list[str] | None:
        if any(column.only is None for column in self.columns):
            return None
        return sorted({name for column in self.columns for name in column.only})

    @property
    def fast(self) -> bool:
        return all(column.only is not None and column.from_values is not None for column in self.columns)


@dataclass(frozen=True)
class ListSpec:
    key: str
    label: Promise
    permission: str
    url_name: str
    rows: Callable[[Any, QueryDict], QuerySet]
    columns: Callable[[Any, QueryDict, str], Columns]


# ---------------------------------------------------------------- values


def plain(value: Any) -> Any:
    """A cell value: None → "", bool → 是/否, aware datetime → local ISO text, date → ISO text,
    Decimal and int stay numbers, a record → its name."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return gettext("是") if value else gettext("否")
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.replace(tzinfo=None).isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (int, float, Decimal)):
        return value
    if isinstance(value, Model):
        return display_name(value)
    return str(value)


def display_name(obj: Model | None) -> str:
    if obj is None:
        return ""
    for attr in ("display_name", "name", "code"):
        value = getattr(obj, attr, None)
        if value:
            return str(value)
    return str(obj)


def field_column(model: type[Model], name: str, *, label: str | None = None, access=None) -> Column:
    """A column of a model field: its verbose name as header; choices → label; FK → name.
    `access` (a field-permission FieldAccess) masks the value as lists do."""
    model_field = model._meta.get_field(name)
    header = label or str(model_field.verbose_name)
    if model_field.is_relation:

        def value(obj):
            return display_name(getattr(obj, name))

        only = _name_fields(model_field.related_model, name)
        return Column(name, header, value, (name,), only, _name_from_values if len(only) == 4 else _first_of)
    if model_field.choices:
        labels = {key: str(label) for key, label in model_field.flatchoices}

        def value(obj):
            return from_values(getattr(obj, name))

        def from_values(raw):
            return "" if raw in (None, "") else labels.get(raw, str(raw))

        return Column(name, header, value, only=(name,), from_values=from_values)
    if access is not None and access.is_masked(name):

        def masked(raw):
            return plain(access.display(name, raw))

        return Column(name, header, lambda obj: masked(getattr(obj, name)), only=(name,), from_values=masked)
    return Column(name, header, lambda obj: plain(getattr(obj, name)), only=(name,), from_values=plain)


def _name_from_values(name, first_name, last_name, username) -> str:
    """User.display_name from its fields: name, else the full name, else the username."""
    return name or f"{first_name or ''} {last_name or ''}".strip() or username or ""


def _first_of(*values) -> str:
    return next((str(v) for v in values if v), "")


def _name_fields(model: type[Model], path: str) -> tuple[str, ...]:
    """The fields `display_name` reads of a related record."""
    names = {f.name for f in model._meta.concrete_fields}
    if "username" in names:  # a user: display_name = name or full name or username
        wanted = ("name", "first_name", "last_name", "username")
    else:
        wanted = tuple(n for n in ("name", "code") if n in names)
    return tuple(f"{path}__{n}" for n in wanted if n in names)


def related_column(key: str, label: str, path: str, getter: Callable[[Any], Any]) -> Column:
    return Column(key, label, lambda obj: plain(getter(obj)), (path,))


def _fake_request(user, params: QueryDict):
    return SimpleNamespace(GET=params, user=user)


def _int(value) -> int | None:
    value = str(value or "")
    return int(value) if value.isdigit() and len(value) < 10 else None


def _pick(model, names: Iterable[str], *, access=None) -> list[Column]:
    return [field_column(model, name, access=access) for name in names]


def _choose(all_columns: list[Column], visible_keys: Iterable[str] | None, mode: str) -> list[Column]:
    if mode == ALL or visible_keys is None:
        return all_columns
    by_key = {c.key: c for c in all_columns}
    return [by_key[k] for k in visible_keys if k in by_key]


# ---------------------------------------------------------------- customers and contacts


def _custom_columns(module: str, user, access, keys: Iterable[str] | None) -> tuple[list[Column], Callable]:
    """Columns of the active, exportable custom fields (CUS-11) the user may see; `keys` limits
    them to the chosen ones. User-type fields look up names once per chunk."""
    from crm.customfields import selectors as custom_selectors
    from crm.customfields import values as custom_values
    from crm.customfields.models import CustomField

    try:
        fields = [f for f in custom_selectors.active_fields(module) if f.exportable]
    except LookupError:
        return [], None
    if keys is not None:
        wanted = set(keys)
        fields = [f for f in fields if f.key in wanted]
    fields = [f for f in fields if access.visible(f.path)]
    names: dict[int, str] = {}
    number_types = (CustomField.FieldType.NUMBER, CustomField.FieldType.MONEY)
    date_types = (CustomField.FieldType.DATE, CustomField.FieldType.DATETIME)

    def make(custom_field):
        def value(obj):
            data = obj.custom_data if isinstance(obj.custom_data, dict) else {}
            stored = data.get(custom_field.key)
            if custom_field.field_type in number_types or custom_field.field_type in date_types:
                shown = custom_values.python_value(custom_field, stored)
            else:
                shown = custom_values.display(custom_field, stored, names)
            if shown is not None and access.is_masked(custom_field.path):
                shown = access.display(custom_field.path, shown)
            return plain(shown)

        def from_values(data):
            return value(SimpleNamespace(custom_data=data))

        return Column(
            custom_field.path, str(custom_field.label), value, only=("custom_data",), from_values=from_values
        )

    user_fields = [f for f in fields if f.field_type == CustomField.FieldType.USER]

    def prepare(datas: list) -> None:
        """Names of the users the chunk's user-type fields point at (`datas`: custom_data dicts)."""
        names.clear()
        if user_fields:
            datas = [data if isinstance(data, dict) else {} for data in datas]
            names.update(custom_values.user_names(user_fields, datas))

    return [make(f) for f in fields], prepare if user_fields else None


CUSTOMER_EXTRA = ("owner", "department", "created_at", "last_followup_at", "last_deal_at")


def customer_rows(user, params: QueryDict) -> QuerySet:
    from crm.customers import selectors
    from crm.customers.views import _list_state

    query, scope, sort, conditions = _list_state(_fake_request(user, params))
    try:
        customers = selectors.customer_list(
            user=user, query=query, conditions=conditions, sort=sort, scope=scope
        )
    except selectors.BadFilterError as exc:
        raise BadParamsError(str(exc)[:80]) from exc
    return customers


def customer_columns(user, params: QueryDict, mode: str) -> Columns:
    from crm.access import field_policy
    from crm.access.fields import catalogue
    from crm.customers.models import Customer
    from crm.customers.views import COLUMNS, _chosen_columns

    access = field_policy.field_access(user, "customers", field_policy.LIST)
    builtin = [f.name for f in catalogue("customers", include_custom=False)] + list(CUSTOMER_EXTRA)
    columns = [field_column(Customer, name, access=access) for name in builtin if access.visible(name)]
    custom_keys = None
    if mode == VISIBLE:
        chosen = _chosen_columns(_fake_request(user, params), access.hidden)
        keys = [key for key, _label, _sortable in COLUMNS if chosen is None or key == "name" or key in chosen]
        by_key = {c.key: c for c in columns}
        columns = [by_key[k] for k in keys if k in by_key]
        if params.get("cc_set"):
            custom_keys = params.getlist("cc")[:50]
        else:
            from crm.customfields import display as custom_display

            custom_keys = [f.key for f in custom_display.list_columns("customers")]
    custom, prepare = _custom_columns("customers", user, access, custom_keys)
    return Columns(columns + custom, prepare)


CONTACT_VISIBLE = ("customer", "name", "title", "mobile", "phone", "email", "is_primary")


def contact_rows(user, params: QueryDict) -> QuerySet:
    """The contacts the API list gives for `customer` and `q` (name, or mobile/phone prefix)."""
    from django.db.models import Q

    from crm.access import field_policy
    from crm.customers import selectors

    contacts = selectors.contacts_visible(user)
    customer = params.get("customer", "")
    if customer:
        if _int(customer) is None:
            raise BadParamsError("customer")
        contacts = contacts.filter(customer_id=int(customer))
    query = params.get("q", "").strip()[:64]
    if query:
        hidden = field_policy.hidden_fields(user, "contacts")
        found = Q(name__icontains=query)
        for name in ("mobile", "phone"):
            if name not in hidden:
                found |= Q(**{f"{name}__startswith": query})
        contacts = contacts.filter(found)
    return contacts.order_by("customer_id", "-is_primary", "pk")


def contact_columns(user, params: QueryDict, mode: str) -> Columns:
    from crm.access import field_policy
    from crm.access.fields import catalogue
    from crm.customers.models import Contact

    access = field_policy.field_access(user, "contacts", field_policy.LIST)
    names = ["customer"] + [f.name for f in catalogue("contacts", include_custom=False)]
    names += ["is_primary", "created_at"]
    columns = [field_column(Contact, name, access=access) for name in names if access.visible(name)]
    return Columns(_choose(columns, CONTACT_VISIBLE, mode))


# ---------------------------------------------------------------- sales lists


def _time_ordered(queryset: QuerySet, time_field: str = "created_at") -> QuerySet:
    """The keyset order of the list pages (core.paging.keyset_page): newest first."""
    return queryset.order_by(f"-{time_field}", "-pk")


LEAD_ALL = (
    "code",
    "company",
    "contact_name",
    "title",
    "mobile",
    "phone",
    "email",
    "wechat",
    "source",
    "industry",
    "region",
    "address",
    "status",
    "owner",
    "department",
    "created_at",
    "last_followup_at",
    "next_contact_at",
    "remark",
)
LEAD_VISIBLE = (
    "code",
    "company",
    "contact_name",
    "mobile",
    "source",
    "status",
    "owner",
    "last_followup_at",
    "created_at",
)


def lead_rows(user, params: QueryDict) -> QuerySet:
    from crm.leads import selectors
    from crm.leads.forms import LeadFilterForm

    form = LeadFilterForm(params or None, user=user)
    data = form.cleaned_data if form.is_valid() else {}
    filters = selectors.LeadFilters(
        q=data.get("q") or "",
        status=data.get("status") or "",
        source_id=data["source"].pk if data.get("source") else None,
        owner_id=data["owner"].pk if data.get("owner") else None,
        sort=data.get("sort") or "created",
    )
    leads = selectors.lead_list(user=user, filters=filters)
    return _time_ordered(leads, selectors.SORTS.get(filters.sort, "created_at"))


def lead_columns(user, params: QueryDict, mode: str) -> Columns:
    from crm.leads.models import Lead

    return Columns(_choose(_pick(Lead, LEAD_ALL), LEAD_VISIBLE, mode))


OPPORTUNITY_ALL = (
    "code",
    "name",
    "customer",
    "source",
    "stage_group",
    "stage",
    "expected_amount",
    "expected_close_date",
    "status",
    "owner",
    "department",
    "won_at",
    "lost_at",
    "lost_reason",
    "lost_note",
    "remark",
    "created_at",
)
OPPORTUNITY_VISIBLE = (
    "code",
    "name",
    "customer",
    "stage",
    "expected_amount",
    "expected_close_date",
    "status",
    "owner",
    "created_at",
)


def opportunity_rows(user, params: QueryDict) -> QuerySet:
    from crm.opportunities import selectors
    from crm.opportunities.views import _filters

    _form, filters = _filters(_fake_request(user, params))
    opportunities = selectors.opportunity_list(user=user, filters=filters)
    time_field = {"created": "created_at", "updated": "updated_at"}.get(filters.sort, "created_at")
    return _time_ordered(opportunities, time_field)


def opportunity_columns(user, params: QueryDict, mode: str) -> Columns:
    from crm.opportunities.models import Opportunity

    return Columns(_choose(_pick(Opportunity, OPPORTUNITY_ALL), OPPORTUNITY_VISIBLE, mode))


QUOTE_ALL = (
    "code",
    "customer",
    "contact",
    "opportunity",
    "status",
    "quoted_on",
    "valid_until",
    "payment_term",
    "tax_percent",
    "subtotal",
    "discount_total",
    "tax_total",
    "total",
    "owner",
    "department",
    "sent_at",
    "decided_at",
    "note",
)
QUOTE_VISIBLE = ("code", "customer", "status", "total", "quoted_on", "valid_until", "owner")


def quote_rows(user, params: QueryDict) -> QuerySet:
    from crm.quotes import selectors

    filters = selectors.QuoteFilters(q=params.get("q", "")[:100], status=params.get("status", ""))
    return _time_ordered(selectors.quote_list(user=user, filters=filters))


def quote_columns(user, params: QueryDict, mode: str) -> Columns:
    from crm.quotes.models import Quote

    return Columns(_choose(_pick(Quote, QUOTE_ALL), QUOTE_VISIBLE, mode))


CONTRACT_ALL = (
    "code",
    "name",
    "kind",
    "customer",
    "contact",
    "opportunity",
    "quote",
    "status",
    "order_status",
    "signed_on",
    "start_on",
    "end_on",
    "customer_signatory",
    "our_signatory",
    "payment_term",
    "tax_percent",
    "subtotal",
    "discount_total",
    "tax_total",
    "total",
    "received_amount",
    "unreceived",
    "invoiced_amount",
    "owner",
    "department",
    "approved_at",
    "created_at",
    "note",
)
CONTRACT_VISIBLE = (
    "code",
    "name",
    "customer",
    "status",
    "total",
    "received_amount",
    "unreceived",
    "signed_on",
    "owner",
)


def _unreceived(obj) -> Decimal:
    return (obj.total or Decimal(0)) - (obj.received_amount or Decimal(0))


def contract_rows(user, params: QueryDict) -> QuerySet:
    from crm.contracts import selectors

    filters = selectors.ContractFilters(
        q=params.get("q", "")[:100], status=params.get("status", ""), kind=params.get("kind", "")
    )
    return _time_ordered(selectors.contract_list(user=user, filters=filters))


def contract_columns(user, params: QueryDict, mode: str) -> Columns:
    from crm.contracts.models import Contract

    columns = []
    for name in CONTRACT_ALL:
        if name == "unreceived":
            columns.append(Column("unreceived", gettext("未回款"), _unreceived))
        else:
            columns.append(field_column(Contract, name))
    return Columns(_choose(columns, CONTRACT_VISIBLE, mode))


PLAN_ALL = (
    "contract",
    "customer",
    "number",
    "due_on",
    "amount",
    "received_amount",
    "unreceived",
    "method",
    "owner",
    "remind_days_before",
    "note",
    "created_at",
)
PLAN_VISIBLE = (
    "contract",
    "customer",
    "number",
    "due_on",
    "amount",
    "received_amount",
    "unreceived",
    "owner",
)


def plan_rows(user, params: QueryDict) -> QuerySet:
    from crm.receivables import selectors

    due = params.get("due", "")
    filters = selectors.PlanFilters(
        q=params.get("q", "")[:100],
        due=due if due in ("upcoming", "overdue") else "",
        contract_id=_int(params.get("contract")),
    )
    return selectors.plan_list(user=user, filters=filters).order_by("due_on", "pk")


def plan_columns(user, params: QueryDict, mode: str) -> Columns:
    from crm.receivables.models import PaymentPlan

    columns = []
    for name in PLAN_ALL:
        if name == "unreceived":
            columns.append(
                Column("unreceived", gettext("未回款"), lambda o: (o.amount or 0) - (o.received_amount or 0))
            )
        elif name == "owner":
            columns.append(
                related_column("owner", gettext("负责人"), "contract__owner", lambda o: o.contract.owner)
            )
        elif name == "contract":
            columns.append(Column("contract", gettext("合同"), lambda o: o.contract.code, ("contract",)))
        else:
            columns.append(field_column(PaymentPlan, name))
    return Columns(_choose(columns, PLAN_VISIBLE, mode))


RECEIVABLE_ALL = (
    "code",
    "contract",
    "customer",
    "plan",
    "status",
    "amount",
    "received_on",
    "method",
    "owner",
    "department",
    "approved_at",
    "note",
    "created_at",
)
RECEIVABLE_VISIBLE = ("code", "contract", "customer", "status", "amount", "received_on", "method", "owner")


def receivable_rows(user, params: QueryDict) -> QuerySet:
    from crm.receivables import selectors

    filters = selectors.ReceivableFilters(
        q=params.get("q", "")[:100], status=params.get("status", ""), contract_id=_int(params.get("contract"))
    )
    return _time_ordered(selectors.receivable_list(user=user, filters=filters))


def receivable_columns(user, params: QueryDict, mode: str) -> Columns:
    from crm.receivables.models import Receivable

    columns = []
    for name in RECEIVABLE_ALL:
        if name == "contract":
            columns.append(Column("contract", gettext("合同"), lambda o: o.contract.code, ("contract",)))
        elif name == "plan":
            columns.append(
                Column("plan", gettext("回款计划"), lambda o: o.plan.number if o.plan_id else "", ("plan",))
            )
        else:
            columns.append(field_column(Receivable, name))
    return Columns(_choose(columns, RECEIVABLE_VISIBLE, mode))


INVOICE_ALL = (
    "code",
    "customer",
    "contract",
    "kind",
    "title",
    "tax_number",
    "bank_account",
    "address_phone",
    "amount",
    "tax_percent",
    "tax_amount",
    "status",
    "invoice_number",
    "issued_on",
    "mailed_on",
    "tracking_number",
    "void_reason",
    "owner",
    "department",
    "created_at",
    "note",
)
INVOICE_VISIBLE = (
    "code",
    "customer",
    "contract",
    "kind",
    "amount",
    "status",
    "invoice_number",
    "created_at",
    "owner",
)


def invoice_rows(user, params: QueryDict) -> QuerySet:
    from crm.invoices import selectors
    from crm.invoices.models import Invoice

    status = params.get("status", "")
    filters = selectors.InvoiceFilters(
        q=params.get("q", "")[:100],
        status=status if status in Invoice.Status.values else "",
        customer_id=_int(params.get("customer")),
    )
    return _time_ordered(selectors.invoice_list(user=user, filters=filters))


def invoice_columns(user, params: QueryDict, mode: str) -> Columns:
    from crm.invoices.models import Invoice

    columns = []
    for name in INVOICE_ALL:
        if name == "contract":
            columns.append(Column("contract", gettext("合同"), lambda o: o.contract.code, ("contract",)))
        else:
            columns.append(field_column(Invoice, name))
    return Columns(_choose(columns, INVOICE_VISIBLE, mode))


PRODUCT_ALL = (
    "code",
    "name",
    "category",
    "unit",
    "list_price",
    "cost",
    "stock",
    "points",
    "grade",
    "is_active",
    "description",
    "created_at",
)
PRODUCT_VISIBLE = ("code", "name", "category", "unit", "list_price", "stock", "points", "is_active")


def product_rows(user, params: QueryDict) -> QuerySet:
    from crm.products import selectors

    category = None
    category_id = params.get("category", "")
    if category_id:
        category = next((c for c in selectors.category_tree(user) if str(c.pk) == category_id), None)
    return selectors.products_search(
        user, q=params.get("q", ""), category=category, active=params.get("active", "")
    )


def product_columns(user, params: QueryDict, mode: str) -> Columns:
    from crm.products.models import Product

    columns = _pick(Product, PRODUCT_ALL)
    columns = [
        Column("is_active", str(Product._meta.get_field("is_active").verbose_name), _on_sale)
        if c.key == "is_active"
        else c
        for c in columns
    ]
    return Columns(_choose(columns, PRODUCT_VISIBLE, mode))


def _on_sale(product) -> str:
    return gettext("上架") if product.is_active else gettext("下架")


USER_ALL = (
    "username",
    "name",
    "email",
    "phone",
    "position",
    "department",
    "manager",
    "roles",
    "is_active",
    "date_joined",
    "last_login",
)
USER_VISIBLE = ("name", "username", "department", "manager", "roles", "is_active")


def user_rows(user, params: QueryDict) -> QuerySet:
    from crm.accounts import selectors

    department_id = params.get("department", "")
    return selectors.user_list(
        viewer=user,
        query=params.get("q", "").strip()[:100],
        department_id=int(department_id) if department_id.isdigit() and len(department_id) < 10 else None,
        status=params.get("status", "active"),
    )


def _roles(user_obj) -> str:
    return "、".join(role.name for role in user_obj.roles.all())


def _user_status(user_obj) -> str:
    return gettext("在职") if user_obj.is_active else gettext("停用")


def user_columns(user, params: QueryDict, mode: str) -> Columns:
    from crm.accounts.models import User

    columns = []
    for name in USER_ALL:
        if name == "roles":
            columns.append(Column("roles", gettext("角色"), _roles))
        elif name == "is_active":
            columns.append(Column("is_active", gettext("状态"), _user_status))
        else:
            columns.append(field_column(User, name))
    return Columns(_choose(columns, USER_VISIBLE, mode), prefetch=("roles",))


# ---------------------------------------------------------------- the registry

LISTS: dict[str, ListSpec] = {
    spec.key: spec
    for spec in (
        ListSpec(
            "customers", _("客户"), "customers.export", "customers:list", customer_rows, customer_columns
        ),
        ListSpec("contacts", _("联系人"), "contacts.export", "customers:list", contact_rows, contact_columns),
        ListSpec("leads", _("线索"), "leads.export", "leads:list", lead_rows, lead_columns),
        ListSpec(
            "opportunities",
            _("商机"),
            "opportunities.export",
            "opportunities:list",
            opportunity_rows,
            opportunity_columns,
        ),
        ListSpec("quotes", _("报价单"), "quotes.export", "quotes:list", quote_rows, quote_columns),
        ListSpec(
            "contracts", _("合同"), "contracts.export", "contracts:list", contract_rows, contract_columns
        ),
        ListSpec(
            "payment_plans", _("回款计划"), "receivables.export", "receivables:plans", plan_rows, plan_columns
        ),
        ListSpec(
            "receivables",
            _("回款"),
            "receivables.export",
            "receivables:list",
            receivable_rows,
            receivable_columns,
        ),
        ListSpec("invoices", _("发票"), "invoices.export", "invoices:list", invoice_rows, invoice_columns),
        ListSpec("products", _("产品"), "products.export", "products:list", product_rows, product_columns),
        ListSpec("users", _("员工"), "users.export", "accounts:users", user_rows, user_columns),
    )
}


def get(key: str) -> ListSpec | None:
    return LISTS.get(key)
