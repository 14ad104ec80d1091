from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.access.policy import PermissionRequiredError
from crm.accounts.models import Role
from crm.audit.models import OperationLog
from crm.customers import services as customer_services
from crm.products import services as product_services
from crm.quotes import selectors, services
from crm.quotes.models import Quote, QuoteLine, QuoteRoleLimit
from crm.quotes.tasks import expire_quotes


def test_totals_round_half_up_to_the_fen(users, catalog, customers):
    quote = services.quote_create(
        actor=users["sales1"],
        values={"customer": customers["mine"], "tax_percent": "13"},
        lines=[
            {"product": catalog["pen"].pk, "quantity": 3, "unit_price": "33.335", "discount_percent": "7.5"}
        ],
    )
    line = quote.lines.get()
    assert line.unit_price == Decimal("33.34")  # the price itself is money: rounded half up
    assert line.policy_price == Decimal("33.34")
    assert line.list_price == Decimal("33.34")
    assert line.unit == "支"
    # gross 100.02, net 92.5185 → 92.52, with tax 104.545905 → 104.55
    assert line.amount == Decimal("104.55")
    quote.refresh_from_db()
    assert (quote.subtotal, quote.discount_total, quote.tax_total, quote.total) == (
        Decimal("100.02"),
        Decimal("7.50"),
        Decimal("12.03"),
        Decimal("104.55"),
    )
    assert quote.code.startswith("BJ")
    assert quote.owner == users["sales1"] and quote.department == users["sales1"].department
    assert OperationLog.objects.filter(action="quote.created", target_id=str(quote.pk)).exists()


def test_totals_are_recomputed_never_taken_from_input(users, catalog, customers):
    quote = services.quote_create(
        actor=users["sales1"],
        values={"customer": customers["mine"], "tax_percent": "0", "total": "1"},
        lines=[{"product": catalog["lock"].pk, "quantity": 2, "amount": "1"}],
    )
    quote.refresh_from_db()
    assert quote.total == Decimal("2598.00")
    assert quote.lines.get().amount == Decimal("2598.00")


def test_unit_price_defaults_to_the_policy_price(users, catalog, customers):
    product_services.price_policy_create(
        actor=users["admin"], product=catalog["lock"], kind="quantity", min_quantity=10, discount_percent=10
    )
    quote = services.quote_create(
        actor=users["sales1"],
        values={"customer": customers["mine"]},
        lines=[{"product": catalog["lock"].pk, "quantity": 10}],
    )
    line = quote.lines.get()
    assert line.policy_price == line.unit_price == Decimal("1169.10")
    assert line.tax_percent == Decimal("13.00")  # the quote's default


def test_discount_limit_per_role(users, catalog, customers):
    lines = [{"product": catalog["lock"].pk, "quantity": 1, "unit_price": "1100"}]  # 15.3 % below 1299
    with pytest.raises(ValidationError) as error:
        services.quote_create(actor=users["sales1"], values={"customer": customers["mine"]}, lines=lines)
    message = " ".join(error.value.messages)
    assert "智能门锁 X1" in message and "¥1169.10" in message and "10.00%" in message
    assert not Quote.objects.exists()
    # within 10 % is fine, also as a line discount
    services.quote_create(
        actor=users["sales1"],
        values={"customer": customers["mine"]},
        lines=[{"product": catalog["lock"].pk, "quantity": 1, "unit_price": "1169.10"}],
    )
    with pytest.raises(ValidationError):
        services.quote_create(
            actor=users["sales1"],
            values={"customer": customers["mine"]},
            lines=[{"product": catalog["lock"].pk, "quantity": 1, "discount_percent": "11"}],
        )
    # a larger limit on the role lets the same price through
    QuoteRoleLimit.objects.create(role=Role.objects.get(code="sales"), max_discount_percent=20)
    assert services.discount_limit(users["sales1"]) == Decimal("20")
    services.quote_create(actor=users["sales1"], values={"customer": customers["mine"]}, lines=lines)
    # super admins are unlimited
    assert services.discount_limit(users["admin"]) is None
    customer = customer_services.customer_create(actor=users["admin"], values={"name": "北京测试有限公司"})
    services.quote_create(
        actor=users["admin"],
        values={"customer": customer},
        lines=[{"product": catalog["lock"].pk, "quantity": 1, "unit_price": "1"}],
    )


def test_role_limit_set_needs_roles_edit(users):
    role = Role.objects.get(code="sales")
    with pytest.raises(PermissionRequiredError):
        services.role_limit_set(actor=users["sales1"], role=role, max_discount_percent=50)
    services.role_limit_set(actor=users["admin"], role=role, max_discount_percent="15")
    assert QuoteRoleLimit.objects.get(role=role).max_discount_percent == Decimal("15.00")
    with pytest.raises(ValidationError):
        services.role_limit_set(actor=users["admin"], role=role, max_discount_percent="101")


@pytest.mark.parametrize(
    ("line", "text"),
    [
        ({"product": 999999, "quantity": 1}, "产品不存在"),
        ({"product": "lock", "quantity": -1}, "数量必须大于 0"),
        ({"product": "lock", "quantity": "abc"}, "数量必须是数字"),
        ({"product": "lock", "quantity": 1, "discount_percent": 101}, "折扣必须在 0 到 100 之间"),
        ({"product": "lock", "quantity": 1, "unit_price": -5}, "单价不能为负数"),
    ],
)
def test_bad_lines_are_refused_and_nothing_changes(users, catalog, customers, line, text):
    if line["product"] == "lock":
        line = line | {"product": catalog["lock"].pk}
    with pytest.raises(ValidationError) as error:
        services.quote_create(actor=users["sales1"], values={"customer": customers["mine"]}, lines=[line])
    assert text in " ".join(error.value.messages)
    assert not Quote.objects.exists() and not QuoteLine.objects.exists()
    assert not OperationLog.objects.filter(action__startswith="quote.").exists()


def test_contact_of_another_customer_is_refused(users, catalog, customers):
    contact = customer_services.contact_create(
        actor=users["sales2"], customer=customers["other"], values={"name": "李娜", "mobile": "13900139000"}
    )
    with pytest.raises(ValidationError) as error:
        services.quote_create(
            actor=users["admin"],
            values={"customer": customers["mine"], "contact": contact},
            lines=[{"product": catalog["lock"].pk, "quantity": 1}],
        )
    assert "不属于客户" in " ".join(error.value.messages)
    assert not Quote.objects.exists()


def test_customer_outside_scope_and_missing_permission(users, catalog, customers):
    with pytest.raises(ValidationError):
        services.quote_create(
            actor=users["sales1"],
            values={"customer": customers["other"]},
            lines=[{"product": catalog["lock"].pk, "quantity": 1}],
        )
    with pytest.raises(PermissionRequiredError):
        services.quote_create(
            actor=users["norole"],
            values={"customer": customers["mine"]},
            lines=[{"product": catalog["lock"].pk, "quantity": 1}],
        )
    assert not Quote.objects.exists()


def test_update_replaces_lines_set_based(users, catalog, make_quote, django_assert_max_num_queries):
    quote = make_quote()
    lines = [{"product": catalog["pen"].pk, "quantity": i + 1} for i in range(30)]
    with django_assert_max_num_queries(40):
        services.quote_update(actor=users["sales1"], quote=quote, values={"note": "改价"}, lines=lines)
    quote.refresh_from_db()
    assert quote.lines.count() == 30 and quote.note == "改价"
    assert quote.total == sum(line.amount for line in quote.lines.all())
    log = OperationLog.objects.get(action="quote.updated", target_id=str(quote.pk))
    assert "lines" in log.changes and "note" in log.changes


def test_status_flow_copy_delete(users, catalog, make_quote):
    quote = make_quote()
    services.quote_send(actor=users["sales1"], quote=quote)
    assert quote.status == Quote.Status.SENT and quote.sent_at
    with pytest.raises(ValidationError) as error:
        services.quote_update(actor=users["sales1"], quote=quote, values={"note": "x"})
    assert "草稿" in error.value.messages[0]
    with pytest.raises(ValidationError):
        services.quote_send(actor=users["sales1"], quote=quote)
    services.quote_accept(actor=users["sales1"], quote=quote)
    assert Quote.objects.get(pk=quote.pk).status == Quote.Status.ACCEPTED
    copy = services.quote_copy(actor=users["sales1"], quote=quote)
    assert copy.status == Quote.Status.DRAFT and copy.code != quote.code
    assert copy.total == quote.total and copy.lines.count() == 1
    with pytest.raises(PermissionRequiredError):  # sales have no quotes.delete
        services.quote_delete(actor=users["sales1"], quote=copy)
    with pytest.raises(ValidationError):
        services.quote_delete(actor=users["admin"], quote=quote)
    services.quote_delete(actor=users["admin"], quote=copy)
    assert not Quote.objects.filter(pk=copy.pk).exists()
    actions = set(OperationLog.objects.filter(action__startswith="quote.").values_list("action", flat=True))
    assert {"quote.sent", "quote.accepted", "quote.copied", "quote.deleted"} <= actions


def test_expiry_job(users, make_quote):
    draft, sent, accepted, fresh = make_quote(), make_quote(), make_quote(), make_quote()
    services.quote_send(actor=users["sales1"], quote=sent)
    services.quote_send(actor=users["sales1"], quote=accepted)
    services.quote_accept(actor=users["sales1"], quote=accepted)
    past = timezone.localdate() - timedelta(days=1)
    Quote.objects.filter(pk__in=[draft.pk, sent.pk, accepted.pk]).update(valid_until=past)
    assert expire_quotes.call_local() == 2
    statuses = dict(Quote.objects.values_list("pk", "status"))
    assert statuses[draft.pk] == statuses[sent.pk] == Quote.Status.EXPIRED
    assert statuses[accepted.pk] == Quote.Status.ACCEPTED and statuses[fresh.pk] == Quote.Status.DRAFT
    assert OperationLog.objects.filter(action="quote.expired").count() == 2
    assert expire_quotes.call_local() == 0


def test_expiry_job_runs_in_immediate_mode(users, make_quote):
    from datetime import datetime

    from huey.contrib.djhuey import HUEY

    quote = make_quote()
    Quote.objects.filter(pk=quote.pk).update(valid_until=timezone.localdate() - timedelta(days=1))
    HUEY.immediate = True
    try:
        expire_quotes()  # enqueued and run at once in immediate mode
        expire_quotes()
    finally:
        HUEY.immediate = False
    assert Quote.objects.get(pk=quote.pk).status == Quote.Status.EXPIRED
    assert OperationLog.objects.filter(action="quote.expired").count() == 1
    # 01:00 Beijing time is 17:00 UTC the day before
    job = expire_quotes.task_class()
    assert job.validate_datetime(datetime(2026, 11, 23, 17, 0))  # noqa: DTZ001
    assert not job.validate_datetime(datetime(2026, 11, 23, 1, 0))  # noqa: DTZ001


def test_price_history_content_order_and_visibility(
    users, catalog, customers, make_quote, django_assert_num_queries
):
    first = make_quote(lines=[{"product": catalog["lock"].pk, "quantity": 2, "discount_percent": 5}])
    second = make_quote(
        lines=[{"product": catalog["pen"].pk, "quantity": 1}, {"product": catalog["lock"].pk, "quantity": 3}]
    )
    make_quote(actor=users["sales2"], customer=customers["other"])
    Quote.objects.filter(pk=first.pk).update(quoted_on=timezone.localdate() - timedelta(days=10))
    customer = customers["mine"]
    with django_assert_num_queries(3):  # the customer scope, the quote lines, the contract lines
        rows = selectors.price_history(customer, user=users["sales1"])
    assert [(r.quote.code, r.product.code) for r in rows] == [
        (second.code, "PEN"),
        (second.code, "HW-X1"),
        (first.code, "HW-X1"),
    ]
    oldest = rows[-1]
    assert oldest.quantity == Decimal("2.00") and oldest.discount_percent == Decimal("5.00")
    assert oldest.unit_price == Decimal("1299.00") and oldest.quote.owner == users["sales1"]
    only_lock = selectors.price_history(customer, catalog["lock"], user=users["sales1"])
    assert [r.quote_id for r in only_lock] == [second.pk, first.pk]
    assert selectors.price_history(customer, user=users["sales2"]) == []
    assert len(selectors.price_history(customer, user=users["manager"])) == 3
