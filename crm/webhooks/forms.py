from django import forms
from django.utils.translation import gettext_lazy as _

from crm.webhooks.events import EVENTS, event_label


class EndpointForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=100, help_text=_("例如：财务系统、订单中台。"))
    url = forms.CharField(
        label=_("接收地址"),
        max_length=500,
        help_text=_("只支持 http:// 或 https://；不跟随重定向；内网和本机地址需先加入允许列表。"),
    )
    events = forms.MultipleChoiceField(
        label=_("订阅事件"), choices=[], required=False, widget=forms.CheckboxSelectMultiple
    )
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["events"].choices = [(e, event_label(e)) for e in EVENTS]
        self.fields["events"].error_messages["invalid_choice"] = _("未知事件：%(value)s。")

    def selected_events(self) -> set[str]:
        if self.is_bound:
            return set(self.data.getlist("events")) if hasattr(self.data, "getlist") else set()
        return set(self.initial.get("events") or [])


class AllowedHostForm(forms.Form):
    host = forms.CharField(
        label=_("主机名、IP 或网段"),
        max_length=255,
        help_text=_("例如 hooks.internal、10.0.0.5、10.0.0.0/24 或 fd00::/64。"),
    )
    note = forms.CharField(label=_("备注"), max_length=200, required=False)
