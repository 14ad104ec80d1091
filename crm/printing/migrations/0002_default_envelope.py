"""Demo data: a default DL (220×110 mm) envelope laid out like a Chinese domestic envelope."""

from decimal import Decimal

from django.db import migrations

DEFAULT = {
    "name": "标准 DL 信封",
    "paper": "DL",
    "width_mm": Decimal("220"),
    "height_mm": Decimal("110"),
    "sender_company": "",
    "sender_name": "",
    "sender_text": "{{公司名称}}\n{{寄件人}}",
    "sender_x": Decimal("125"),
    "sender_y": Decimal("82"),
    "sender_font_size": Decimal("9"),
    "sender_font": "song",
    "recipient_text": "{{地址}}\n\n{{客户名称}}\n{{联系人}} 收",
    "recipient_x": Decimal("40"),
    "recipient_y": Decimal("32"),
    "recipient_font_size": Decimal("14"),
    "recipient_font": "kai",
    "show_postcode": True,
    "postcode_x": Decimal("13"),
    "postcode_y": Decimal("10"),
    "postcode_font_size": Decimal("15"),
    "postcode_spacing": Decimal("4.6"),
    "is_default": True,
}


def seed_default(apps, schema_editor=None):
    EnvelopeTemplate = apps.get_model("printing", "EnvelopeTemplate")
    if not EnvelopeTemplate.objects.exists():
        EnvelopeTemplate.objects.create(**DEFAULT)


class Migration(migrations.Migration):
    dependencies = [("printing", "0001_initial")]

    operations = [migrations.RunPython(seed_default, migrations.RunPython.noop)]
