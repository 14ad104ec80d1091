from django.db import migrations

# PostgreSQL only: the indexes that keep every branch of the quick search (crm/customers/search.py)
# off a sequential scan at a million customers (phone/mobile prefix, keyword prefix and substring),
# and the list's two default sorts over all live customers, which a scope covering many owners
# (a manager's subtree) walks in order instead of sorting tens of thousands of rows
# (bench/customers.py measures both).
POSTGRES_SQL = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS customer_mobile_prefix ON customers_customer (mobile text_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS customer_phone_prefix ON customers_customer (phone text_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS customer_keyword_prefix ON customers_customer "
    "(upper(keyword) text_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS customer_keyword_trgm ON customers_customer "
    "USING gin (upper(keyword) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS customer_recent_idx ON customers_customer (created_at DESC, id DESC) "
    "WHERE deleted_at IS NULL",
    "CREATE INDEX IF NOT EXISTS customer_followup_recent_idx ON customers_customer "
    "(last_followup_at DESC, id DESC) WHERE deleted_at IS NULL",
    # A finer sample of the grams (the default keeps ~600 most common of tens of thousands): the
    # planner then estimates a rare 2-character query at ~100 rows, not ~2,000, and reads it through
    # the gram index instead of walking the list's sort index past every other customer.
    "ALTER INDEX customer_grams_gin ALTER COLUMN 1 SET STATISTICS 1000",
]
POSTGRES_REVERSE = [
    "ALTER INDEX IF EXISTS customer_grams_gin ALTER COLUMN 1 SET STATISTICS -1",
    "DROP INDEX IF EXISTS customer_mobile_prefix",
    "DROP INDEX IF EXISTS customer_phone_prefix",
    "DROP INDEX IF EXISTS customer_keyword_prefix",
    "DROP INDEX IF EXISTS customer_keyword_trgm",
    "DROP INDEX IF EXISTS customer_recent_idx",
    "DROP INDEX IF EXISTS customer_followup_recent_idx",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in POSTGRES_SQL:
            schema_editor.execute(sql)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in POSTGRES_REVERSE:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("customers", "0003_pool_claims")]

    operations = [migrations.RunPython(forwards, backwards)]
