"""The opportunity statistics page (OPP-2): figures by stage and status, win rate, funnel, lost reasons."""

from django.shortcuts import render
from django.views import View

from crm.core.mixins import PermissionMixin
from crm.opportunities import selectors
from crm.opportunities.forms import StatsFilterForm
from crm.opportunities.stats import StatsFilters, opportunity_stats


class StatsView(PermissionMixin, View):
    permission = "opportunities.view"

    def get(self, request):
        form = StatsFilterForm(request.GET or None)
        data = form.cleaned_data if form.is_valid() else {}
        group = data.get("group") or selectors.stage_groups_active().first()
        stats = None
        if group is not None:
            filters = StatsFilters(created_from=data.get("created_from"), created_to=data.get("created_to"))
            stats = opportunity_stats(user=request.user, group=group, filters=filters)
        status = 400 if form.is_bound and not form.is_valid() else 200
        return render(request, "opportunities/stats.html", {"form": form, "stats": stats}, status=status)
