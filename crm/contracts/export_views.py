"""POST ids from the contract list's bulk bar → the selected contracts as .xlsx."""

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from crm.access.policy import PermissionRequiredError
from crm.audit.services import client_ip
from crm.contracts.exports import contracts_export
from crm.contracts.selectors import contracts_visible
from crm.core.mixins import PermissionMixin
from crm.core.spreadsheets import xlsx_response

MAX_EXPORT = 500


class ContractExportView(PermissionMixin, View):
    permission = "contracts.export"

    def post(self, request):
        ids = [int(v) for v in request.POST.getlist("ids") if v.isdigit()][:MAX_EXPORT]
        contracts = contracts_visible(request.user).filter(pk__in=ids)
        try:
            headers, rows = contracts_export(actor=request.user, contracts=contracts, ip=client_ip(request))
        except PermissionRequiredError as exc:
            raise PermissionDenied from exc
        filename = _("合同导出-%(date)s.xlsx") % {"date": timezone.localdate().strftime("%Y%m%d")}
        return xlsx_response(filename, headers, rows, title=str(_("合同")))
