"""A test-only kind of document ("test_doc"): any saved row stands in for the document, its amount
and type come from a lookup the test fills. Flows are built through the service, like an admin."""

from decimal import Decimal

import pytest

from crm.accounts.models import Role
from crm.accounts.tests.factories import DepartmentFactory
from crm.approvals import kinds, services
from crm.approvals.models import ApprovalStep

KIND = "test_doc"


class Documents:
    def __init__(self):
        self.amounts: dict[int, Decimal | None] = {}
        self.types: dict[int, str] = {}
        self.approved: list[int] = []
        self.rejected: list[int] = []

    def make(self, amount="1000", doc_type: str = "", name: str | None = None):
        document = DepartmentFactory(name=name or f"测试单据{len(self.amounts) + 1}")
        self.amounts[document.pk] = None if amount is None else Decimal(str(amount))
        self.types[document.pk] = doc_type
        return document


@pytest.fixture
def docs():
    documents = Documents()
    kinds.register(
        KIND,
        "测试单据",
        "settings.settings",
        amount=lambda d: documents.amounts.get(d.pk),
        doc_type=lambda d: documents.types.get(d.pk, ""),
    )
    kinds.connect(
        KIND,
        on_approved=lambda r: documents.approved.append(int(r.object_id)),
        on_rejected=lambda r: documents.rejected.append(int(r.object_id)),
    )
    yield documents
    kinds.unregister(KIND)


def user_step(user, name="审批", **extra):
    return {"name": name, "approver_type": ApprovalStep.ApproverType.USER, "approver_user": user, **extra}


def role_step(code, name="角色审批", **extra):
    return {
        "name": name,
        "approver_type": ApprovalStep.ApproverType.ROLE,
        "approver_role": Role.objects.get(code=code),
        **extra,
    }


def manager_step(name="直属上级审批", **extra):
    return {"name": name, "approver_type": ApprovalStep.ApproverType.MANAGER, **extra}


@pytest.fixture
def make_flow(users, docs):
    def make(steps, name="测试审批流", priority=0, is_active=True, kind=KIND):
        return services.flow_save(
            actor=users["admin"], name=name, kind=kind, steps=steps, priority=priority, is_active=is_active
        )

    return make
