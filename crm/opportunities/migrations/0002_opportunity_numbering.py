from django.db import migrations


def add_rule(apps, schema_editor):
    NumberingRule = apps.get_model("customers", "NumberingRule")
    NumberingRule.objects.get_or_create(
        key="opportunity", defaults={"prefix": "SJ", "date_part": "%Y%m%d", "padding": 4}
    )


class Migration(migrations.Migration):
    dependencies = [
        ("opportunities", "0001_initial"),
        ("customers", "0001_initial"),
    ]

    operations = [migrations.RunPython(add_rule, migrations.RunPython.noop)]
