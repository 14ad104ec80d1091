from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.printing.models import PAPER_SIZES, EnvelopeTemplate
from crm.printing.services import TEMPLATE_FIELDS


class EnvelopeTemplateForm(forms.ModelForm):
    class Meta:
        model = EnvelopeTemplate
        fields = TEMPLATE_FIELDS
        widgets = {
            "sender_text": forms.Textarea(attrs={"rows": 4}),
            "recipient_text": forms.Textarea(attrs={"rows": 4}),
        }
        help_texts = {
            "paper": _("预设尺寸自动使用标准宽高；选择“自定义”时填写宽度和高度。"),
            "postcode_spacing": _("邮编数字之间的间距，对准信封左上角的邮编方框。"),
            "is_default": _("打印信封时默认选中这个模板。"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        short = {"_x": _("X（mm）"), "_y": _("Y（mm）"), "_font_size": _("字号（pt）"), "_font": _("字体")}
        for name, field in self.fields.items():
            for suffix, label in short.items():
                if name.startswith(("sender_", "recipient_", "postcode_")) and name.endswith(suffix):
                    field.label = label  # the card title says which block
            if name == "postcode_spacing":
                field.label = _("字间距（mm）")
            if name.endswith(("_x", "_y", "_mm", "_size", "_spacing")):
                field.widget.attrs["step"] = "0.5"
        self.fields["recipient_text"].required = True
        self.fields["width_mm"].required = False
        self.fields["height_mm"].required = False

    def clean(self):
        data = super().clean()
        paper = data.get("paper")
        if paper in PAPER_SIZES:
            data["width_mm"], data["height_mm"] = (Decimal(v) for v in PAPER_SIZES[paper])
        elif paper == EnvelopeTemplate.Paper.CUSTOM:
            for name in ("width_mm", "height_mm"):
                if data.get(name) is None and name not in self.errors:
                    self.add_error(name, _("自定义尺寸请填写信封的宽度和高度（50–400 mm）。"))
        return data
