"""seed_demo loads the demo quotes once."""

from django.core.management import call_command

from crm.quotes.models import Quote, QuoteLine


def test_seed_demo_loads_quotes_once(db):
    call_command("seed_demo")
    count = Quote.objects.count()
    assert count == 20 and QuoteLine.objects.count() >= 20
    assert set(Quote.objects.values_list("status", flat=True)) >= {
        "draft",
        "sent",
        "accepted",
        "rejected",
        "expired",
    }
    for quote in Quote.objects.prefetch_related("lines"):
        assert quote.total == sum(line.amount for line in quote.lines.all())
    call_command("seed_demo")
    assert Quote.objects.count() == count
