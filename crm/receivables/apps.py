from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReceivablesConfig(AppConfig):
    name = "crm.receivables"
    label = "receivables"
    verbose_name = _("回款")

    def ready(self) -> None:
        from django.urls import reverse

        from crm.approvals import kinds, signals
        from crm.receivables import services
        from crm.receivables.models import PaymentMethod

        # Flows of kind "receivable" branch on the amount and on the payment method (type).
        kinds.register(
            services.KIND,
            _("回款"),
            "settings.settings",
            amount=lambda receivable: receivable.amount,
            doc_type=lambda receivable: receivable.method,
            url=lambda receivable: reverse("receivables:detail", args=[receivable.pk]),
            type_labels=dict(PaymentMethod.choices),
        )
        kinds.connect(
            services.KIND,
            on_approved=services.receivable_approved,
            on_rejected=services.receivable_rejected,
        )
        signals.request_withdrawn.connect(
            _only_receivables(services.receivable_request_withdrawn),
            weak=False,
            dispatch_uid="receivable_withdrawn",
        )
        signals.request_submitted.connect(
            _only_receivables(services.receivable_request_submitted),
            weak=False,
            dispatch_uid="receivable_submitted",
        )


def _only_receivables(handler):
    def receive(sender, request, **kwargs):
        if sender == "receivable":
            handler(sender, request, **kwargs)

    return receive
