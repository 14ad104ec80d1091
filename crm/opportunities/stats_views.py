"""The opportunity statistics page (OPP-2): figures by stage and status, win rate, funnel, lost reasons."""

from django import forms
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views import View

from crm.core.mixins import PermissionMixin
from crm.opportunities import selectors
from crm.opportunities.stats import StatsFilters, opportunity_stats


class StatsFilterForm(forms.Form):
    group = forms.ModelChoiceField(label=_("阶段组"), queryset=None, required=False, empty_label=None)
    created_from = forms.DateField(
        label=_("创建日期从"), required=False, widget=forms.DateInput({"type": "date"})
    )
    created_to = forms.DateField(label=_("至"), required=False, widget=forms.DateInput({"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = selectors.stage_groups_active()

    def clean(self):
        data = super().clean()
        start, end = data.get("created_from"), data.get("created_to")
        if start and end and start > end:
            raise forms.ValidationError(_("开始日期不能晚于结束日期。"))
        return data


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
