"""Export selected contracts to .xlsx: one row per product line with the contract's figures, the
same stored Decimal amounts (computed once by crm/core/money.py) that the page, the API and the
print view show. Only contracts the user may see; logged with the count."""

from collections.abc import Iterator

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from crm.access import policy
from crm.access.policy import PermissionRequiredError
from crm.audit.services import log_action
from crm.contracts.models import Contract, ContractLine


def _headers() -> list[str]:
    return [
        _("合同编号"),
        _("合同名称"),
        _("合同类型"),
        _("客户"),
        _("状态"),
        _("签约日期"),
        _("负责人"),
        _("产品编码"),
        _("产品"),
        _("数量"),
        _("单价"),
        _("折扣(%)"),
        _("税率(%)"),
        _("金额"),
        _("合同金额"),
        _("已回款"),
        _("未回款"),
        _("已开票"),
    ]


def contract_export_rows(contracts: QuerySet[Contract]) -> tuple[list[str], Iterator[list]]:
    lines = (
        ContractLine.objects.filter(contract__in=contracts)
        .select_related("contract", "contract__customer", "contract__owner", "product")
        .order_by("-contract__created_at", "-contract_id", "order", "pk")
    )

    def row(line: ContractLine) -> list:
        contract = line.contract
        return [
            contract.code,
            contract.name,
            contract.get_kind_display(),
            contract.customer.name,
            contract.get_status_display(),
            contract.signed_on,
            contract.owner.display_name,
            line.product.code,
            line.product.name,
            line.quantity,
            line.unit_price,
            line.discount_percent,
            line.tax_percent,
            line.amount,
            contract.total,
            contract.received_amount,
            contract.outstanding_amount,
            contract.invoiced_amount,
        ]

    return _headers(), (row(line) for line in lines.iterator(chunk_size=500))


def contracts_export(*, actor, contracts: QuerySet[Contract], ip: str | None = None):
    """Headers and rows of `contracts` (callers pass only visible ones); needs contracts.export."""
    if not policy.can(actor, "contracts.export"):
        raise PermissionRequiredError("contracts.export")
    log_action(
        actor=actor, action="contract.exported", changes={"count": [None, contracts.count()]}, ip_address=ip
    )
    return contract_export_rows(contracts)
