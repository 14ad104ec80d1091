from django.db import migrations


def create_defaults(apps, schema_editor):
    from crm.accounts.defaults import ensure_default_roles, ensure_root_department

    ensure_default_roles(apps.get_model("accounts", "Role"))
    ensure_root_department(apps.get_model("accounts", "Department"))


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
