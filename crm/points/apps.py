from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PointsConfig(AppConfig):
    name = "crm.points"
    label = "points"
    verbose_name = _("客户积分")

    def ready(self) -> None:
        # Earn on approval and reverse on voiding, inside the contract's own transaction.
        from crm.contracts.models import Contract
        from crm.contracts.signals import contract_approved, contract_voided
        from crm.points import services

        contract_approved.connect(services.on_contract_approved, sender=Contract, dispatch_uid="points_earn")
        contract_voided.connect(services.on_contract_voided, sender=Contract, dispatch_uid="points_reverse")
