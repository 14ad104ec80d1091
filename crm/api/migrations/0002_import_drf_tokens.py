"""Keep integrations working: tokens of DRF's authtoken app (used before personal API tokens) become
APITokens, stored hashed. The old table is left alone (rest_framework.authtoken is uninstalled)."""

import hashlib

from django.db import migrations


def import_drf_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if "authtoken_token" not in connection.introspection.table_names():
        return
    APIToken = apps.get_model("api", "APIToken")
    with connection.cursor() as cursor:
        cursor.execute("SELECT key, user_id FROM authtoken_token")
        rows = cursor.fetchall()
    APIToken.objects.bulk_create(
        [
            APIToken(
                user_id=user_id,
                name="API 令牌（升级前）",
                prefix=key[:8],
                key_hash=hashlib.sha256(key.encode()).hexdigest(),
            )
            for key, user_id in rows
        ],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [("api", "0001_initial")]

    operations = [migrations.RunPython(import_drf_tokens, migrations.RunPython.noop)]
