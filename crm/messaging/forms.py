from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.messaging.models import Reminder


class ReminderForm(forms.ModelForm):
    remind_at = forms.DateTimeField(
        label=_("提醒时间"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
    )

    class Meta:
        model = Reminder
        fields = ["title", "remind_at", "note", "send_email"]
        widgets = {"note": forms.Textarea(attrs={"rows": 3})}

    def clean_title(self):
        title = self.cleaned_data["title"].strip()
        if not title:
            raise forms.ValidationError(_("请填写提醒事项。"))
        return title

    def clean_remind_at(self):
        remind_at = self.cleaned_data["remind_at"]
        if remind_at < timezone.now() - timedelta(minutes=1):
            raise forms.ValidationError(_("提醒时间不能早于现在。"))
        return remind_at
