"""Fixtures of the receivable tests: customers made through the services, contracts written
directly with the ORM (status and total as the test needs, independent of the contract services),
and a one-step "receivable" approval flow decided by the finance user."""

from datetime import timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.utils import timezone

from crm.approvals import services as approvals
from crm.approvals.models import ApprovalStep, ApprovalTask
from crm.contracts.models import Contract
from crm.customers import services as customer_services

_codes = count(1)


@pytest.fixture
def customers(users):
    """One customer of sales1 and one of sales2 (sales1 cannot see the second)."""
    return {
        "mine": customer_services.customer_create(
            actor=users["sales1"], values={"name": "深圳华创科技有限公司"}
        ),
        "other": customer_services.customer_create(
            actor=users["sales2"], values={"name": "上海远航贸易有限公司"}
        ),
    }


@pytest.fixture
def make_contract(users, customers):
    def make(*, owner=None, customer=None, total="10000.00", status=Contract.Status.APPROVED, **extra):
        owner = owner or users["sales1"]
        customer = customer or customers["mine"]
        return Contract.objects.create(
            code=f"HT-T{next(_codes):05d}",
            name=extra.pop("name", "年度采购合同"),
            customer=customer,
            owner=owner,
            department_id=owner.department_id,
            status=status,
            signed_on=timezone.localdate() - timedelta(days=10),
            subtotal=Decimal(total),
            total=Decimal(total),
            created_by=owner,
            **extra,
        )

    return make


@pytest.fixture
def contract(make_contract):
    return make_contract()


@pytest.fixture
def flow(users):
    """回款确认: one step, the finance user decides."""
    return approvals.flow_save(
        actor=users["admin"],
        name="回款确认",
        kind="receivable",
        steps=[
            {
                "name": "财务确认",
                "approver_type": ApprovalStep.ApproverType.USER,
                "approver_user": users["finance"],
            }
        ],
    )


def pending_task(receivable):
    return (
        ApprovalTask.objects.filter(
            request__kind="receivable",
            request__object_id=str(receivable.pk),
            request__status="pending",
            status="pending",
        )
        .select_related("approver")
        .order_by("pk")
        .first()
    )
