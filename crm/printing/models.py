"""Envelope templates (CUS-17): paper size and the positions and fonts of the printed blocks."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.printing.placeholders import validate_placeholders

# Preset paper sizes in mm (width × height, landscape as the envelope is fed).
PAPER_SIZES: dict[str, tuple[int, int]] = {
    "DL": (220, 110),
    "C5": (229, 162),
    "C6": (162, 114),
    "B6": (176, 125),
}

# The three usual Chinese faces, each as a CSS font stack with Noto/Source Han and AR PL fallbacks.
FONT_STACKS: dict[str, str] = {
    "song": '"SimSun", "宋体", "Songti SC", "STSong", "Noto Serif CJK SC", "Source Han Serif SC", serif',
    "hei": '"SimHei", "黑体", "Heiti SC", "STHeiti", "Noto Sans CJK SC", "Source Han Sans SC", sans-serif',
    "kai": '"KaiTi", "楷体", "STKaiti", "Kaiti SC", "AR PL UKai CN", "Noto Serif CJK SC", serif',
}

MM = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("400"))]
SIZE_MM = [MinValueValidator(Decimal("50")), MaxValueValidator(Decimal("400"))]
FONT_PT = [MinValueValidator(Decimal("6")), MaxValueValidator(Decimal("72"))]
SPACING_MM = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("20"))]


def _mm(verbose: str, default: str, validators=MM):
    return models.DecimalField(
        verbose, max_digits=5, decimal_places=1, default=Decimal(default), validators=validators
    )


def _pt(verbose: str, default: str):
    return models.DecimalField(
        verbose, max_digits=4, decimal_places=1, default=Decimal(default), validators=FONT_PT
    )


class EnvelopeTemplate(models.Model):
    class Paper(models.TextChoices):
        DL = "DL", _("DL（220×110 mm）")
        C5 = "C5", _("C5（229×162 mm）")
        C6 = "C6", _("C6（162×114 mm）")
        B6 = "B6", _("B6（176×125 mm）")
        CUSTOM = "custom", _("自定义")

    class Font(models.TextChoices):
        SONG = "song", _("宋体")
        HEI = "hei", _("黑体")
        KAI = "kai", _("楷体")

    name = models.CharField(_("模板名称"), max_length=100, unique=True)
    paper = models.CharField(_("信封尺寸"), max_length=10, choices=Paper.choices, default=Paper.DL)
    width_mm = _mm(_("宽度（mm）"), "220", SIZE_MM)
    height_mm = _mm(_("高度（mm）"), "110", SIZE_MM)

    sender_company = models.CharField(_("公司名称"), max_length=100, blank=True)
    sender_name = models.CharField(_("寄件人"), max_length=100, blank=True)
    sender_text = models.TextField(
        _("寄件人内容"), max_length=1000, blank=True, validators=[validate_placeholders]
    )
    sender_x = _mm(_("寄件人位置 X（mm）"), "120")
    sender_y = _mm(_("寄件人位置 Y（mm）"), "80")
    sender_font_size = _pt(_("寄件人字号（pt）"), "9")
    sender_font = models.CharField(_("寄件人字体"), max_length=10, choices=Font.choices, default=Font.SONG)

    recipient_text = models.TextField(_("收件人内容"), max_length=1000, validators=[validate_placeholders])
    recipient_x = _mm(_("收件人位置 X（mm）"), "40")
    recipient_y = _mm(_("收件人位置 Y（mm）"), "35")
    recipient_font_size = _pt(_("收件人字号（pt）"), "14")
    recipient_font = models.CharField(_("收件人字体"), max_length=10, choices=Font.choices, default=Font.KAI)

    show_postcode = models.BooleanField(_("打印邮编"), default=True)
    postcode_x = _mm(_("邮编位置 X（mm）"), "12")
    postcode_y = _mm(_("邮编位置 Y（mm）"), "10")
    postcode_font_size = _pt(_("邮编字号（pt）"), "14")
    postcode_spacing = _mm(_("邮编字间距（mm）"), "4.5", SPACING_MM)

    is_default = models.BooleanField(_("默认模板"), default=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("信封模板")
        verbose_name_plural = _("信封模板")
        ordering = ["-is_default", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="printing_one_default_envelope",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def validate_constraints(self, exclude=None):
        # One default: the services clear the old default when another one is set.
        super().validate_constraints(exclude=set(exclude or ()) | {"is_default"})

    def clean(self):
        super().clean()
        if self.paper in PAPER_SIZES:
            width, height = PAPER_SIZES[self.paper]
            self.width_mm, self.height_mm = Decimal(width), Decimal(height)
        errors: dict[str, str] = {}
        width, height = self.width_mm, self.height_mm
        if width is None or height is None:
            return
        for prefix, label in (("sender", _("寄件人")), ("recipient", _("收件人")), ("postcode", _("邮编"))):
            x, y = getattr(self, f"{prefix}_x"), getattr(self, f"{prefix}_y")
            if x is not None and x >= width:
                errors[f"{prefix}_x"] = _("%(block)s的 X 位置必须小于信封宽度 %(width)s mm。") % {
                    "block": label,
                    "width": f"{width.normalize():f}",
                }
            if y is not None and y >= height:
                errors[f"{prefix}_y"] = _("%(block)s的 Y 位置必须小于信封高度 %(height)s mm。") % {
                    "block": label,
                    "height": f"{height.normalize():f}",
                }
        if errors:
            raise ValidationError(errors)

    def font_stack(self, which: str) -> str:
        return FONT_STACKS.get(getattr(self, f"{which}_font"), FONT_STACKS["song"])

    @property
    def sender_font_stack(self) -> str:
        return self.font_stack("sender")

    @property
    def recipient_font_stack(self) -> str:
        return self.font_stack("recipient")
