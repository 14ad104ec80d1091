"""Customer pages (CUS-2…6, CUS-12, CON-1). Thin: parse input, call a selector or service, render."""

import base64
import binascii
import json
from functools import cached_property

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views import View

from crm.access import field_policy, policy
from crm.access.field_policy import FieldAccess
from crm.accounts.models import User
from crm.activities.selectors import followups_for_customer
from crm.core.mixins import PermissionMixin, ServiceFormView, client_ip
from crm.customers import bulk_services, pool_services, selectors, services, settings_services, team_services
from crm.customers.forms import (
    AccessForm,
    ContactForm,
    CustomerForm,
    DictionaryItemForm,
    NumberingRuleForm,
    RestoreForm,
    dictionary_choices,
)
from crm.customers.models import Customer, CustomerAccess, DictionaryItem, NumberingRule
from crm.customers.services import DICTIONARY_FIELDS
from crm.customfields import display as customfield_display
from crm.customfields import filters as customfield_filters
from crm.customfields import selectors as customfield_selectors
from crm.savedviews import selectors as savedview_selectors

MAX_BULK = 500
MAX_CONDITIONS = 10

SCOPES = (
    ("all", gettext_lazy("全部")),
    ("mine", gettext_lazy("我的客户")),
    ("shared_with_me", gettext_lazy("共享给我的")),
    ("shared_by_me", gettext_lazy("我共享的")),
)
OP_LABELS = {
    "contains": gettext_lazy("包含"),
    "equals": gettext_lazy("等于"),
    "startswith": gettext_lazy("开头是"),
    "empty": gettext_lazy("为空"),
    "is": gettext_lazy("是"),
    "after": gettext_lazy("不早于"),
    "before": gettext_lazy("不晚于"),
}
# "in" (a comma-separated list of ids) stays available to links and the API, not to the form.
UI_HIDDEN_OPS = {"in"}
NULLABLE_SORTS = {"last_followup_at", "next_contact_at"}
COLUMNS = (
    ("name", gettext_lazy("客户名称"), True),
    ("code", gettext_lazy("客户编号"), True),
    ("status", gettext_lazy("客户状态"), False),
    ("value_level", gettext_lazy("价值等级"), False),
    ("stage", gettext_lazy("跟进程度"), False),
    ("owner", gettext_lazy("负责人"), False),
    ("last_followup_at", gettext_lazy("最近跟进"), True),
    ("next_contact_at", gettext_lazy("下次联系"), True),
    ("created_at", gettext_lazy("创建时间"), True),
)


def _columns(sort: str, hidden: frozenset[str] = frozenset(), shown: list[str] | None = None) -> list[dict]:
    """Table headers; a sortable one links to its sort, flipping the direction when active.
    Columns of fields hidden from the user (ORG-8) are left out; `shown`: the built-in columns
    ticked in the column chooser (None: all); the name column is always shown."""
    current, descending = sort.lstrip("-"), sort.startswith("-")
    columns = []
    for key, label, sortable in COLUMNS:
        if key in hidden or (shown is not None and key != "name" and key not in shown):
            continue
        active = sortable and key == current
        if active:
            next_sort = key if descending else f"-{key}"
        else:
            next_sort = key if key in ("name", "code") else f"-{key}"
        columns.append(
            {
                "key": key,
                "label": label,
                "sortable": sortable,
                "sort": next_sort,
                "active": active,
                "desc": descending,
            }
        )
    return columns


class AnyPermissionMixin(PermissionMixin):
    """Like PermissionMixin, for pages that any one of several permissions opens."""

    permissions_any: tuple[str, ...] = ()

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not any(
            policy.can(request.user, p) for p in self.permissions_any
        ):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


def _posted_ids(request) -> list[int]:
    return [int(v) for v in request.POST.getlist("ids") if v.isdigit()][:MAX_BULK]


def _back(request, default: str):
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(default)


def _field_label(field: str) -> str:
    return str(Customer._meta.get_field(field).verbose_name)


# ---------------------------------------------------------------- list


def _encode_cursor(value, pk: int) -> str:
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return base64.urlsafe_b64encode(json.dumps([text, pk]).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, field: str):
    try:
        text, pk = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, TypeError):
        return None
    if not isinstance(pk, int) or not isinstance(text, str):
        return None
    if field in ("created_at", "updated_at"):
        try:
            value = parse_datetime(text)
        except ValueError:
            return None
        return None if value is None else (value, pk)
    return text, pk


def _conditions(request) -> list[selectors.Condition]:
    fields = request.GET.getlist("f")
    ops = request.GET.getlist("op")
    values = request.GET.getlist("v")
    found = []
    for index, field in enumerate(fields[:MAX_CONDITIONS]):
        if not field:
            continue
        op = ops[index] if index < len(ops) else ""
        value = values[index] if index < len(values) else ""
        # 60: room for "custom." + a 40-character custom-field key (CUS-11)
        found.append(selectors.Condition(field=field[:60], op=op[:20], value=value[:200]))
    return found


class FilterOptions:
    """Value choices for the advanced filter's select boxes, fetched only for the fields in use."""

    def __init__(self, user):
        self.user = user
        self._cache: dict[str, list[tuple[str, str]]] = {}
        self._dictionary: list[DictionaryItem] | None = None

    def ops(self, field: str) -> list[tuple[str, str]]:
        if customfield_filters.is_custom(field):  # custom fields (CUS-11)
            return customfield_filters.op_choices("customers", field)
        return [
            (op, str(OP_LABELS.get(op, op)))
            for op in selectors.FILTER_FIELDS.get(field, {})
            if op not in UI_HIDDEN_OPS
        ]

    def widget(self, field: str) -> str:
        if customfield_filters.is_custom(field):  # custom fields (CUS-11)
            return customfield_filters.widget("customers", field)
        ops = selectors.FILTER_FIELDS.get(field)
        if ops is selectors.CHOICE_OPS:
            return "select"
        if ops is selectors.DATE_OPS:
            return "date"
        return "text"

    def choices(self, field: str) -> list[tuple[str, str]]:
        if field not in self._cache:
            self._cache[field] = self._load(field)
        return self._cache[field]

    def _load(self, field: str) -> list[tuple[str, str]]:
        if customfield_filters.is_custom(field):  # custom fields (CUS-11)
            return customfield_filters.value_choices("customers", field, self.user)
        if field == "kind":
            return [(value, str(label)) for value, label in Customer.Kind.choices]
        if field in DICTIONARY_FIELDS:
            if self._dictionary is None:
                self._dictionary = list(
                    DictionaryItem.objects.filter(kind__in=list(DICTIONARY_FIELDS.values())).order_by(
                        "sort_order", "pk"
                    )
                )
            return dictionary_choices([i for i in self._dictionary if i.kind == DICTIONARY_FIELDS[field]])
        if field == "owner":
            users = policy.visible_users(self.user).order_by("-is_active", "pk")[:500]
            return [(str(u.pk), u.display_name) for u in users]
        if field == "department":
            return [(str(d.pk), d.name) for d in policy.visible_departments(self.user).order_by("path")[:500]]
        if field == "pool":
            return [(str(p.pk), p.name) for p in selectors.pools_visible(self.user)]
        return []

    def row(self, condition: selectors.Condition | None) -> dict:
        field = condition.field if condition else ""
        return {
            "field": field,
            "op": condition.op if condition else "",
            "value": condition.value if condition else "",
            "ops": self.ops(field) if field else [],
            "widget": self.widget(field) if field else "text",
            "choices": self.choices(field) if field and self.widget(field) == "select" else [],
        }


def filter_fields(user=None) -> list[tuple[str, str]]:
    """The advanced filter's fields, without those hidden from the user (ORG-8)."""
    hidden = field_policy.hidden_fields(user, "customers") if user is not None else frozenset()
    builtin = [(field, _field_label(field)) for field in selectors.FILTER_FIELDS if field not in hidden]
    # Searchable custom fields (CUS-11) as `custom.<key>`.
    return builtin + [
        (p, label) for p, label in customfield_filters.field_options("customers") if p not in hidden
    ]


def _list_state(request) -> tuple[str, str, str, list[selectors.Condition]]:
    """(quick search, scope tab, sort, advanced conditions) of the list's query string."""
    query = request.GET.get("q", "").strip()[:100]
    scope = request.GET.get("scope", "all")
    if scope not in dict(SCOPES):
        scope = "all"
    sort = request.GET.get("sort", "-created_at")[:60]  # room for "-custom.<key>" (CUS-11)
    return query, scope, sort, _conditions(request)


def _list_query(request, *drop: str) -> str:
    """The list's query string without paging (and without `drop`): what a saved view stores and
    what group-by counts and their links start from."""
    params = request.GET.copy()
    for key in ("cursor", "page", "view", *drop):
        params.pop(key, None)
    return params.urlencode()


def _chosen_columns(request, hidden: frozenset[str]) -> list[str] | None:
    """Built-in columns ticked in the column chooser (`cols`), None when the chooser was not used."""
    if not request.GET.get("cc_set"):
        return None
    keys = {key for key, _label, _sortable in COLUMNS} - hidden
    return [c for c in request.GET.getlist("cols")[:50] if c in keys]


GROUP_LABELS = {
    "owner": gettext_lazy("负责人"),
    "department": gettext_lazy("所属部门"),
    "pool": gettext_lazy("公海"),
}


def group_fields(user) -> list[tuple[str, str]]:
    """What the list may be grouped by (分组统计), without fields hidden from the user (ORG-8)."""
    hidden = field_policy.hidden_fields(user, "customers")
    return [
        (field, str(GROUP_LABELS.get(field) or _field_label(field)))
        for field in selectors.GROUP_FIELDS
        if field not in hidden
    ]


class CustomerListView(PermissionMixin, View):
    permission = "customers.view"
    page_size = selectors.LIST_PAGE_SIZE

    def get(self, request):
        user = request.user
        # Saved views (CUS-2): `?view=<id>` alone opens one; no parameters at all opens the
        # user's default view. Either way the view's parameters land in the URL and go through
        # the same selector and access policy as typed ones.
        if set(request.GET) == {"view"}:
            view = savedview_selectors.view_get_for_user(
                user=user, pk=request.GET["view"], list_key="customers"
            )
            return redirect(savedview_selectors.list_url(view))
        if not request.GET:
            default = savedview_selectors.default_view(user, "customers")
            if default is not None:
                return redirect(savedview_selectors.list_url(default))
        query, scope, sort, conditions = _list_state(request)
        hidden = field_policy.hidden_fields(user, "customers")
        chosen = _chosen_columns(request, hidden)
        options = FilterOptions(user)
        columns = _columns(sort, hidden, chosen)
        context = {
            "query": query,
            "scope": scope,
            "scopes": SCOPES,
            "sort": sort,
            "filter_fields": filter_fields(user),
            "filter_rows": [options.row(c) for c in conditions if selectors.is_filter_field(c.field)],
            "columns": columns,
            "show": {c["key"]: True for c in columns},
            "builtin_column_choices": [
                (key, label, chosen is None or key in chosen)
                for key, label, _sortable in COLUMNS
                if key != "name" and key not in hidden
            ],
            "group_fields": group_fields(user),
            "list_query": _list_query(request),
            **self._saved_views(request),
            "list_fields": field_policy.field_access(user, "customers", field_policy.LIST),
            "can_create": policy.can(user, "customers.create"),
            "can_transfer": policy.can(user, "customers.transfer"),
            "can_share": policy.can(user, "customers.share"),
            "can_delete": policy.can(user, "customers.delete"),
            "can_print": policy.can(user, "customers.print"),  # 打印 / 打印信封 (CUS-17)
            "rows": [],
        }
        try:
            customers = selectors.customer_list(
                user=user, query=query, conditions=conditions, sort=sort, scope=scope
            )
            # Evaluate the filters now so that a bad value is reported, not raised while rendering.
            context.update(self._page(request, customers, sort))
            self._custom_columns(request, context)
        except selectors.BadFilterError as exc:
            context["filter_error"] = _(
                "筛选条件“%(condition)s”无效：只能按列表提供的字段、条件和取值筛选或排序。"
            ) % {"condition": str(exc)[:80]}
            return render(request, "customers/list.html", context, status=400)
        context.update(_bulk_more_context(user))  # 放入公海 and 批量修改字段 in the bulk bar
        context["any_bulk"] = any(
            context[k]
            for k in ("can_transfer", "can_share", "can_delete", "can_release", "can_bulk_edit", "can_print")
        )
        return render(request, "customers/list.html", context)

    def _saved_views(self, request) -> dict:
        """The views menu: the user's own views, then the shared ones (one query)."""
        user = request.user
        views = list(savedview_selectors.views_visible(user, "customers"))
        active_id = request.GET.get("view", "")
        active = next((v for v in views if str(v.pk) == active_id), None)
        for view in views:
            view.mine = view.owner_id == user.pk
            view.manageable = savedview_selectors.can_manage(user, view)
            view.url = savedview_selectors.list_url(view)
        modified = False
        if active is not None:
            from crm.customers import list_params

            here = list_params.params_from_query(_list_query(request))
            stored = list_params.params_from_query(list_params.params_to_query(active.params or {}))
            modified = {k: v for k, v in here.items() if v} != {k: v for k, v in stored.items() if v}
        return {
            "saved_views": views,
            "active_view": active,
            "active_view_modified": modified,
            "can_share_views": savedview_selectors.can_share(user, "customers"),
        }

    def _custom_columns(self, request, context) -> None:
        """Custom-field columns (CUS-11): the ones ticked in the column chooser (`cc`), or by
        default those marked "show in list"; fields hidden from the user (ORG-8) never show."""
        hidden = field_policy.hidden_fields(request.user, "customers")
        chosen = request.GET.getlist("cc")[:50] if request.GET.get("cc_set") else None
        columns = [f for f in customfield_display.list_columns("customers", chosen) if f.path not in hidden]
        customfield_display.annotate_rows(context["rows"], columns, context.get("list_fields"))
        context["custom_columns"] = columns
        sort = context["sort"]
        context["custom_column_heads"] = [
            {
                "key": f.key,
                "label": f.label,
                "active": sort.lstrip("-") == f.path,
                "desc": sort.startswith("-"),
                "sort": f.path if sort == f"-{f.path}" else f"-{f.path}",
            }
            for f in columns
        ]
        context["custom_column_choices"] = [
            (f.key, f.label, f in columns)
            for f in customfield_selectors.active_fields("customers")
            if f.path not in hidden
        ] or None

    def _page(self, request, customers, sort: str) -> dict:
        field = sort.lstrip("-")
        descending = sort.startswith("-")
        rows_qs = selectors.customer_list_rows(customers)
        count, more = selectors.capped_count(customers)
        result = {"count": count, "count_more": more}
        if field in NULLABLE_SORTS or customfield_filters.is_custom(field):  # custom fields: CUS-11
            # NULLs have no keyset position: plain pages, still no COUNT(*).
            page = request.GET.get("page", "1")
            number = int(page) if page.isdigit() and 0 < int(page) <= 1000 else 1
            start = (number - 1) * self.page_size
            rows = list(rows_qs[start : start + self.page_size + 1])
            result["page_number"] = number
            result["next_page"] = number + 1 if len(rows) > self.page_size else None
            result["previous_page"] = number - 1 if number > 1 else None
        else:
            cursor = request.GET.get("cursor", "")
            position = _decode_cursor(cursor, field) if cursor else None
            if position is not None:
                value, pk = position
                op = "lt" if descending else "gt"
                rows_qs = rows_qs.filter(
                    Q(**{f"{field}__{op}": value}) | Q(**{field: value, f"pk__{op}": pk})
                )
            rows = list(rows_qs[: self.page_size + 1])
            result["first_page_link"] = bool(cursor)
            if len(rows) > self.page_size:
                last = rows[self.page_size - 1]
                result["next_cursor"] = _encode_cursor(getattr(last, field), last.pk)
        result["rows"] = rows[: self.page_size]
        return result


class FilterRowView(PermissionMixin, View):
    """One advanced-filter row, re-rendered by htmx when its field changes (the operators and the
    value box depend on the field)."""

    permission = "customers.view"

    def get(self, request):
        field = request.GET.get("f", "")
        if field and (
            not selectors.is_filter_field(field)
            or not field_policy.filterable(request.user, "customers", field)
        ):
            return HttpResponse(_("未知的筛选字段。"), status=400)
        options = FilterOptions(request.user)
        row = options.row(selectors.Condition(field, "", "") if field else None)
        return render(
            request, "customers/filter_row.html", {"row": row, "filter_fields": filter_fields(request.user)}
        )


class CustomerGroupView(PermissionMixin, View):
    """Group-by counts (分组统计) of the list's current result: the same selector, scope, search
    and filters, grouped by one field (`by`) in one GROUP BY query. Loaded by htmx only when the
    user asks for it, so a large scope pays for it only then."""

    permission = "customers.view"

    def get(self, request):
        import time

        user = request.user
        field = request.GET.get("by", "")
        if not field:  # the panel's close button
            return HttpResponse("")
        labels = dict(group_fields(user))
        query, scope, sort, conditions = _list_state(request)
        context = {"field": field, "field_label": labels.get(field, "")}
        try:
            if field not in labels:
                raise selectors.BadFilterError(field)
            customers = selectors.customer_list(
                user=user, query=query, conditions=conditions, sort=sort, scope=scope
            )
            started = time.perf_counter()
            counts = selectors.customer_group_counts(customers, field, user=user)
            context["elapsed_ms"] = round((time.perf_counter() - started) * 1000)
        except selectors.BadFilterError as exc:
            context["filter_error"] = _(
                "筛选条件“%(condition)s”无效：只能按列表提供的字段、条件和取值筛选或排序。"
            ) % {"condition": str(exc)[:80]}
            return render(request, "customers/group_counts.html", context, status=400)
        except selectors.GroupTimeoutError:
            context["filter_error"] = _("分组统计超时：请先缩小范围或加上筛选条件再分组。")
            return render(request, "customers/group_counts.html", context, status=503)
        base = _list_query(request, "by")
        list_url = reverse("customers:list")
        rows = []
        for group in counts.groups:
            if group.value is None:
                link = f"{list_url}?{base}&f={field}&op=empty&v="
            else:
                link = f"{list_url}?{base}&f={field}&op=is&v={group.value}"
            rows.append(
                {"label": group.label, "empty": group.value is None, "count": group.count, "url": link}
            )
        context.update({"counts": counts, "rows": rows})
        return render(request, "customers/group_counts.html", context)


class CustomerBulkView(PermissionMixin, View):
    """Transfer, share or delete the ticked customers. Only customers the user may change are
    touched: the posted ids go through `customers_editable` in one query."""

    permission = "customers.view"
    actions = {
        "transfer": "customers.transfer",
        "share": "customers.share",
        "delete": "customers.delete",
        "release": "customers.edit",
        "edit": "customers.edit",
    }

    def post(self, request):
        action = request.POST.get("action", "")
        needed = self.actions.get(action)
        if needed is None:
            messages.error(request, _("未知的批量操作。"))
            return _back(request, reverse("customers:list"))
        if not policy.can(request.user, needed):
            raise PermissionDenied
        ids = _posted_ids(request)
        if not ids:
            messages.error(request, _("请先勾选客户。"))
            return _back(request, reverse("customers:list"))
        customers = selectors.customers_editable(request.user).filter(pk__in=ids)
        ip = client_ip(request)
        try:
            done = getattr(self, action)(request, customers, ip)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, done)
        return _back(request, reverse("customers:list"))

    def transfer(self, request, customers, ip) -> str:
        to_user = User.objects.filter(pk=_int(request.POST.get("to_user")), is_active=True).first()
        if to_user is None:
            raise ValidationError(_("请选择接收客户的在职员工。"))
        moved = services.customers_transfer(
            actor=request.user,
            customers=customers,
            to_user=to_user,
            keep_previous_as_team=request.POST.get("keep_team") == "1",
            with_related=[
                module
                for module in services.RELATED_TRANSFERS
                if request.POST.get("with_related") == "1" and policy.can(request.user, f"{module}.transfer")
            ],
            ip=ip,
        )
        return ngettext(
            "已将 %(count)d 个客户转移给 %(name)s。", "已将 %(count)d 个客户转移给 %(name)s。", moved
        ) % {"count": moved, "name": to_user.display_name}

    def share(self, request, customers, ip) -> str:
        user_ids = [int(v) for v in request.POST.getlist("users") if v.isdigit()][:100]
        users = list(User.objects.filter(pk__in=user_ids, is_active=True))
        shared = services.customers_share(
            actor=request.user,
            customers=customers,
            users=users,
            can_edit=request.POST.get("can_edit") == "1",
            ip=ip,
        )
        return ngettext("已共享 %(count)d 个客户。", "已共享 %(count)d 个客户。", shared) % {"count": shared}

    def delete(self, request, customers, ip) -> str:
        deleted = services.customers_delete(actor=request.user, customers=customers, ip=ip)
        return ngettext("已将 %(count)d 个客户移入回收站。", "已将 %(count)d 个客户移入回收站。", deleted) % {
            "count": deleted
        }

    def release(self, request, customers, ip) -> str:
        """放入公海: own customers, and with pool.transfer those in the user's scope; protected
        customers stay (the message says how many)."""
        pool = selectors.pools_visible(request.user).filter(pk=_int(request.POST.get("pool"))).first()
        if pool is None:
            raise ValidationError(_("请选择您可见的公海。"))
        result = pool_services.pool_release_many(
            actor=request.user, customers=customers, pool=pool, reason=request.POST.get("reason", ""), ip=ip
        )
        if not result.count:
            raise ValidationError(_("所选客户中没有您可以放入公海的客户。"))
        done = ngettext(
            "已将 %(count)d 个客户放入“%(pool)s”。", "已将 %(count)d 个客户放入“%(pool)s”。", result.count
        ) % {"count": result.count, "pool": pool}
        if result.protected:
            skipped = len(result.protected)
            done += " " + ngettext(
                "%(count)d 个客户在保护期内，未放入公海。",
                "%(count)d 个客户在保护期内，未放入公海。",
                skipped,
            ) % {"count": skipped}
        return done

    def edit(self, request, customers, ip) -> str:
        """批量修改字段: one field, one value, for the ticked customers the user may change."""
        field = request.POST.get("field", "")
        mode = request.POST.get("mode") or bulk_services.REPLACE
        changed = bulk_services.customers_bulk_update(
            actor=request.user,
            customers=customers,
            field=field,
            value=request.POST.get("value", ""),
            mode=mode,
            ip=ip,
        )
        label = bulk_services.bulk_field(request.user, field).label
        return ngettext(
            "已修改 %(count)d 个客户的“%(field)s”。", "已修改 %(count)d 个客户的“%(field)s”。", changed
        ) % {"count": changed, "field": label}


def _bulk_more_context(user) -> dict:
    """The bulk bar's 放入公海 (pools, the default one first choice) and 批量修改字段 (fields)."""
    can_edit = policy.can(user, "customers.edit")
    pools = list(selectors.pools_visible(user).order_by("-is_default", "pk")) if can_edit else []
    fields = bulk_services.bulk_fields(user) if can_edit else []
    return {
        "can_release": bool(pools),
        "bulk_pools": pools,
        "can_bulk_edit": bool(fields),
        "bulk_fields": fields,
    }


class CustomerBulkValueView(PermissionMixin, View):
    """The value input of 批量修改字段 for the chosen field (htmx): a select of the active
    dictionary values, a date, a number, tags with replace/append."""

    permission = "customers.edit"

    def get(self, request):
        field = bulk_services.bulk_field(request.user, request.GET.get("field", ""))
        return render(request, "customers/bulk_value.html", {"field": field})


def _for_form(exc: ValidationError, form) -> ValidationError:
    """A service's error keyed by fields the form does not have lands on the form as a whole
    (Form.add_error would raise on an unknown field name)."""
    if not hasattr(exc, "error_dict"):
        return exc
    mapped: dict[str, list] = {}
    for field, errors in exc.error_dict.items():
        key = field if field in form.fields else "__all__"
        mapped.setdefault(key, []).extend(errors)
    return ValidationError(mapped)


def _int(value) -> int | None:
    return int(value) if isinstance(value, str) and value.isdigit() else None


# ---------------------------------------------------------------- create / edit / detail


class CustomerFormView(ServiceFormView):
    create_permission, edit_permission = "customers.create", "customers.edit"
    template_name = "customers/form.html"
    object_name = "customer"

    def load(self, pk):
        return selectors.customer_get_for_user(user=self.request.user, customer_id=pk, write=True)

    def get_form(self):
        return CustomerForm(self.request.POST or None, instance=self.object, user=self.request.user)

    duplicate_warning = False

    def save(self, form):
        ip = client_ip(self.request)
        allow = form.cleaned_data.get("allow_duplicates", False)
        try:
            if self.object:
                return services.customer_update(
                    actor=self.request.user,
                    customer=self.object,
                    values=form.customer_values(),
                    ip=ip,
                    allow_duplicates=allow,
                    custom_values=form.custom_values(),
                )
            return services.customer_create(
                actor=self.request.user,
                values=form.customer_values(),
                contacts=form.first_contacts(),
                ip=ip,
                allow_duplicates=allow,
                custom_values=form.custom_values(),
            )
        except ValidationError as exc:
            # 重名提示: the page offers 仍要保存 and the user resubmits with allow_duplicates.
            self.duplicate_warning = not hasattr(exc, "error_dict") and any(
                e.code == "duplicate_warning" for e in exc.error_list
            )
            raise _for_form(exc, form) from exc

    def extra_context(self, form):
        return {"duplicate_warning": self.duplicate_warning}

    def success_message(self, saved):
        return _("客户“%(name)s”已保存。") % {"name": saved.name}

    def success_url(self, saved):
        return reverse("customers:detail", args=[saved.pk])


PROFILE_FIELDS = (
    ("keyword", "text"),
    ("credit_code", "text"),
    ("category", "text"),
    ("value_level", "text"),
    ("stage", "text"),
    ("region", "region"),
    ("industry", "text"),
    ("source", "text"),
    ("phone", "text"),
    ("mobile", "text"),
    ("fax", "text"),
    ("email", "email"),
    ("qq", "text"),
    ("wechat", "text"),
    ("website", "url"),
    ("address", "text"),
    ("postcode", "text"),
    ("legal_representative", "text"),
    ("registered_capital", "money"),
    ("credit_limit", "money"),
    ("tags", "tags"),
)


def _profile(
    customer: Customer, regions: dict[int, DictionaryItem], fields: FieldAccess | None = None
) -> list[tuple[str, object, str]]:
    """(label, value or None, kind) for the detail page's data grid; hidden fields left out and
    masked ones masked (ORG-8) when `fields` is given."""
    rows = []
    for field, kind in PROFILE_FIELDS:
        if fields is not None and not fields.visible(field):
            continue
        value = getattr(customer, field)
        if fields is not None and fields.is_masked(field):
            value, kind = fields.display(field, value), "text"
        if kind == "region" and value is not None and value.parent_id in regions:
            value = f"{regions[value.parent_id].name} / {value.name}"
        elif kind == "tags":
            value = [t.strip() for t in value.replace("，", ",").split(",") if t.strip()] or None
        elif kind == "money" and value is not None:
            value = f"{value:,.2f}"
        rows.append((_field_label(field), value if value not in ("", None) else None, kind))
    return rows


def _timeline_module(log) -> str:
    return "contacts" if log.action.startswith("contact.") else "customers"


FEED_TABS = (
    ("all", gettext_lazy("全部动态")),
    ("followups", gettext_lazy("跟进记录")),
    ("log", gettext_lazy("操作记录")),
)


class CustomerDetailView(PermissionMixin, View):
    permission = "customers.view"

    def get(self, request, pk):
        user = request.user
        customer = selectors.customer_get_for_user(user=user, customer_id=pk)
        can_edit = selectors.can_edit_customer(user, customer)
        contacts = selectors.contacts_of(customer)
        can_share = can_edit and policy.can(user, "customers.share")
        regions = {}
        if customer.region is not None and customer.region.parent_id:
            regions = {r.pk: r for r in DictionaryItem.objects.filter(pk=customer.region.parent_id)}
        customer_fields = field_policy.field_access(user, "customers", field_policy.DETAIL)
        timeline = selectors.customer_timeline(customer, contacts)
        followups = followups_for_customer(user, customer)
        feed = request.GET.get("feed", "all")
        feed = feed if feed in selectors.FEEDS else "all"
        # Contacts' values read as in the contacts table below (a list).
        field_policy.redact_timeline(user, timeline, _timeline_module, {"contacts": field_policy.LIST})
        context = {
            "customer": customer,
            "profile": _profile(customer, regions, customer_fields),
            # Custom fields (CUS-11), formatted per type; hidden/masked per field permissions.
            "custom_profile": customfield_display.detail_rows(
                "customers", customer.custom_data, customer_fields
            ),
            "contacts": contacts,
            "customer_fields": customer_fields,
            # The contacts table is a list of contacts: values masked "in lists" are masked there.
            "contact_fields": field_policy.field_access(user, "contacts", field_policy.LIST),
            "accesses": selectors.customer_accesses(customer),
            "timeline": timeline,
            "can_edit": can_edit,
            "can_delete": can_edit and policy.can(user, "customers.delete"),
            "can_share": can_share,
            "can_add_contact": can_edit and policy.can(user, "contacts.create"),
            "can_edit_contact": can_edit and policy.can(user, "contacts.edit"),
            "can_delete_contact": can_edit and policy.can(user, "contacts.delete"),
            "access_form": AccessForm() if can_share else None,
            "followups": followups,
            "feed": feed,
            "feeds": FEED_TABS,
            "feed_entries": selectors.customer_feed(followups, timeline, feed),
            # Protection and giving back to the pool are the owner's (or an admin's) to decide.
            "can_protect": customer.owner_id is not None
            and (customer.owner_id == user.pk or policy.can(user, "customers.settings")),
            "can_release": customer.owner_id == user.pk,
            "can_merge": policy.can(user, "customers.settings"),
            "can_print": policy.can(user, "customers.print"),  # 打印 / 打印信封 (CUS-17)
        }
        return render(request, "customers/detail.html", context)


class CustomerDeleteView(PermissionMixin, View):
    permission = "customers.delete"

    def post(self, request, pk):
        customer = selectors.customer_get_for_user(user=request.user, customer_id=pk, write=True)
        services.customers_delete(
            actor=request.user, customers=Customer.objects.filter(pk=customer.pk), ip=client_ip(request)
        )
        messages.success(request, _("客户“%(name)s”已移入回收站。") % {"name": customer.name})
        return redirect("customers:list")


class CustomerAccessAddView(PermissionMixin, View):
    """Share the customer with colleagues, or add them to its team (CUS-5)."""

    permission = "customers.share"

    def post(self, request, pk):
        customer = selectors.customer_get_for_user(user=request.user, customer_id=pk, write=True)
        form = AccessForm(request.POST)
        if not form.is_valid():
            messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
            return redirect("customers:detail", pk=customer.pk)
        data = form.cleaned_data
        try:
            if data["kind"] == CustomerAccess.Kind.TEAM:
                team_services.customer_team_add(
                    actor=request.user,
                    customer=customer,
                    users=data["users"],
                    can_edit=data["can_edit"],
                    ip=client_ip(request),
                )
            else:
                services.customers_share(
                    actor=request.user,
                    customers=Customer.objects.filter(pk=customer.pk),
                    users=[u for u in data["users"] if u.pk != customer.owner_id],
                    can_edit=data["can_edit"],
                    ip=client_ip(request),
                )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("已更新共享与团队。"))
        return redirect("customers:detail", pk=customer.pk)


class CustomerAccessRemoveView(PermissionMixin, View):
    permission = "customers.share"

    def post(self, request, pk, access_id):
        customer = selectors.customer_get_for_user(user=request.user, customer_id=pk, write=True)
        access = get_object_or_404(
            CustomerAccess.objects.select_related("user"), pk=access_id, customer=customer
        )
        services.customer_unshare(
            actor=request.user, customer=customer, user=access.user, ip=client_ip(request)
        )
        messages.success(request, _("已移除 %(name)s 的访问权限。") % {"name": access.user.display_name})
        return redirect("customers:detail", pk=customer.pk)


# ---------------------------------------------------------------- contacts


class ContactFormView(ServiceFormView):
    create_permission, edit_permission = "contacts.create", "contacts.edit"
    template_name = "customers/contact_form.html"
    object_name = "contact"

    def dispatch(self, request, *args, customer_id=None, **kwargs):
        self.customer_id = customer_id
        return super().dispatch(request, *args, **kwargs)

    @cached_property
    def customer(self) -> Customer:
        return selectors.customer_get_for_user(
            user=self.request.user, customer_id=self.customer_id, write=True
        )

    def load(self, pk):
        return get_object_or_404(self.customer.contacts.all(), pk=pk)

    def get_form(self):
        self.customer  # noqa: B018 -- 404 before anything else when the customer is not editable
        return ContactForm(self.request.POST or None, instance=self.object, user=self.request.user)

    def extra_context(self, form):
        return {"customer": self.customer}

    def save(self, form):
        ip = client_ip(self.request)
        if self.object:
            return services.contact_update(
                actor=self.request.user, contact=self.object, values=form.contact_values(), ip=ip
            )
        return services.contact_create(
            actor=self.request.user, customer=self.customer, values=form.contact_values(), ip=ip
        )

    def success_message(self, saved):
        return _("联系人“%(name)s”已保存。") % {"name": saved.name}

    def success_url(self, saved):
        return reverse("customers:detail", args=[self.customer.pk]) + "#contacts"


class ContactPrimaryView(PermissionMixin, View):
    permission = "contacts.edit"

    def post(self, request, customer_id, pk):
        customer = selectors.customer_get_for_user(user=request.user, customer_id=customer_id, write=True)
        contact = get_object_or_404(customer.contacts.all(), pk=pk)
        services.contact_update(
            actor=request.user, contact=contact, values={"is_primary": True}, ip=client_ip(request)
        )
        messages.success(request, _("已将“%(name)s”设为首要联系人。") % {"name": contact.name})
        return redirect(reverse("customers:detail", args=[customer.pk]) + "#contacts")


class ContactDeleteView(PermissionMixin, View):
    permission = "contacts.delete"

    def post(self, request, customer_id, pk):
        customer = selectors.customer_get_for_user(user=request.user, customer_id=customer_id, write=True)
        contact = get_object_or_404(customer.contacts.all(), pk=pk)
        services.contact_delete(actor=request.user, contact=contact, ip=client_ip(request))
        messages.success(request, _("联系人“%(name)s”已删除。") % {"name": contact.name})
        return redirect(reverse("customers:detail", args=[customer.pk]) + "#contacts")


# ---------------------------------------------------------------- recycle bin


class RecycleBinView(AnyPermissionMixin, View):
    permissions_any = ("customers.delete", "customers.settings")
    page_size = 30

    def get(self, request):
        user = request.user
        page = request.GET.get("page", "1")
        number = int(page) if page.isdigit() and 0 < int(page) <= 1000 else 1
        start = (number - 1) * self.page_size
        rows = list(
            selectors.customers_in_recycle_bin(user)
            .select_related("owner", "deleted_by", "pool")
            .order_by("-deleted_at", "-pk")[start : start + self.page_size + 1]
        )
        can_restore = policy.can(user, "pool.settings") or policy.can(user, "customers.settings")
        context = {
            "rows": rows[: self.page_size],
            "page_number": number,
            "next_page": number + 1 if len(rows) > self.page_size else None,
            "previous_page": number - 1 if number > 1 else None,
            "can_restore": can_restore,
            "can_purge": policy.can(user, "customers.settings"),
            "restore_form": RestoreForm(initial={"pool": services.default_pool().pk})
            if can_restore
            else None,
        }
        return render(request, "customers/recycle_bin.html", context)


class RecycleBinRestoreView(AnyPermissionMixin, View):
    permissions_any = ("pool.settings", "customers.settings")

    def post(self, request):
        form = RestoreForm(request.POST)
        ids = _posted_ids(request)
        if not form.is_valid() or not ids:
            messages.error(request, _("请勾选要恢复的客户并选择公海。"))
            return redirect("customers:recycle_bin")
        restored = services.customers_restore(
            actor=request.user,
            customers=selectors.customers_in_recycle_bin(request.user).filter(pk__in=ids),
            pool=form.cleaned_data["pool"],
            ip=client_ip(request),
        )
        messages.success(
            request,
            ngettext(
                "已将 %(count)d 个客户恢复到公海“%(pool)s”。",
                "已将 %(count)d 个客户恢复到公海“%(pool)s”。",
                restored,
            )
            % {"count": restored, "pool": form.cleaned_data["pool"].name},
        )
        return redirect("customers:recycle_bin")


class RecycleBinPurgeView(PermissionMixin, View):
    permission = "customers.settings"

    def post(self, request):
        ids = _posted_ids(request)
        if not ids:
            messages.error(request, _("请先勾选客户。"))
            return redirect("customers:recycle_bin")
        purged = services.customers_purge(
            actor=request.user,
            customers=selectors.customers_in_recycle_bin(request.user).filter(pk__in=ids),
            ip=client_ip(request),
        )
        messages.success(
            request,
            ngettext("已彻底删除 %(count)d 个客户。", "已彻底删除 %(count)d 个客户。", purged)
            % {"count": purged},
        )
        return redirect("customers:recycle_bin")


# ---------------------------------------------------------------- dictionaries and numbering (CUS-12)

KIND_FIELD = {kind: field for field, kind in DICTIONARY_FIELDS.items()}


def _kind(value: str | None) -> str:
    if value in DictionaryItem.Kind.values:
        return value
    raise Http404


class DictionaryListView(PermissionMixin, View):
    permission = "customers.settings"

    def get(self, request):
        kind = request.GET.get("kind") or DictionaryItem.Kind.STATUS
        kind = _kind(kind)
        items = list(DictionaryItem.objects.filter(kind=kind).order_by("sort_order", "pk"))
        usage = {}
        field = KIND_FIELD.get(kind)
        if field:
            usage = dict(
                Customer.objects.filter(**{f"{field}__isnull": False})
                .values_list(field)
                .annotate(n=Count("pk"))
                .order_by()
            )
        by_pk = {i.pk: i for i in items}
        ordered = [by_pk[int(pk)] for pk, _label in dictionary_choices(items)]
        for item in ordered:
            item.usage = usage.get(item.pk, 0)
        context = {
            "kind": kind,
            "kind_label": DictionaryItem.Kind(kind).label,
            "kinds": DictionaryItem.Kind.choices,
            "items": ordered,
            "is_tree": kind in settings_services.TREE_KINDS,
            "form": DictionaryItemForm(kind=kind),
            "rule": NumberingRule.objects.filter(key="customer").first(),
        }
        return render(request, "customers/settings/dictionaries.html", context)


class DictionaryItemFormView(ServiceFormView):
    create_permission = edit_permission = "customers.settings"
    template_name = "customers/settings/dictionary_form.html"
    object_name = "item"

    def load(self, pk):
        return get_object_or_404(DictionaryItem, pk=pk)

    @property
    def kind(self) -> str:
        return self.object.kind if self.object else _kind(self.request.GET.get("kind"))

    def get_form(self):
        return DictionaryItemForm(self.request.POST or None, kind=self.kind, item=self.object)

    def extra_context(self, form):
        return {"kind": self.kind, "kind_label": DictionaryItem.Kind(self.kind).label}

    def save(self, form):
        data = form.cleaned_data
        ip = client_ip(self.request)
        if self.object:
            return settings_services.dictionary_item_update(
                actor=self.request.user,
                item=self.object,
                name=data["name"],
                sort_order=data.get("sort_order"),
                ip=ip,
            )
        return settings_services.dictionary_item_create(
            actor=self.request.user, kind=self.kind, name=data["name"], parent=data.get("parent"), ip=ip
        )

    def success_message(self, saved):
        return _("“%(name)s”已保存。") % {"name": saved.name}

    def success_url(self, saved):
        return f"{reverse('customers:dictionaries')}?kind={saved.kind}"


class DictionaryItemActiveView(PermissionMixin, View):
    permission = "customers.settings"

    def post(self, request, pk):
        item = get_object_or_404(DictionaryItem, pk=pk)
        active = request.POST.get("active") == "1"
        settings_services.dictionary_item_set_active(
            actor=request.user, item=item, active=active, ip=client_ip(request)
        )
        if active:
            messages.success(request, _("“%(name)s”已启用。") % {"name": item.name})
        else:
            messages.success(request, _("“%(name)s”已停用，已使用它的客户不受影响。") % {"name": item.name})
        return redirect(f"{reverse('customers:dictionaries')}?kind={item.kind}")


class NumberingRuleView(ServiceFormView):
    create_permission = edit_permission = "customers.settings"
    template_name = "customers/settings/numbering.html"
    object_name = "rule"

    def get_form(self):
        self.object = NumberingRule.objects.filter(key="customer").first()
        initial = {"prefix": "KH", "date_part": NumberingRule.DatePart.DAY, "padding": 4}
        if self.object:
            initial = {
                "prefix": self.object.prefix,
                "date_part": self.object.date_part,
                "padding": self.object.padding,
            }
        return NumberingRuleForm(self.request.POST or None, initial=initial)

    def extra_context(self, form):
        rule = self.object
        example = ""
        if rule is not None:
            period = timezone.localtime().strftime(rule.date_part) if rule.date_part else ""
            example = f"{rule.prefix}{period}{1:0{rule.padding}d}"
        return {"kinds": DictionaryItem.Kind.choices, "example": example}

    def save(self, form):
        return settings_services.numbering_rule_update(
            actor=self.request.user, key="customer", ip=client_ip(self.request), **form.cleaned_data
        )

    def success_message(self, saved):
        return _("客户编号规则已保存。")

    def success_url(self, saved):
        return reverse("customers:numbering")
