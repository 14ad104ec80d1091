from django.core.management import call_command

from crm.activities.models import FollowUp
from crm.leads.models import Lead


def test_seed_demo_loads_leads_once(db):
    call_command("seed_demo")
    count = Lead.objects.count()
    assert count == 40
    assert set(Lead.objects.values_list("owner__username", flat=True)) == {"sales1", "sales2", "manager"}
    assert set(Lead.objects.values_list("status", flat=True)) == set(Lead.Status.values)
    converted = Lead.objects.filter(status=Lead.Status.CONVERTED)
    assert all(lead.converted_customer_id for lead in converted)
    assert FollowUp.objects.filter(lead__isnull=False, customer__isnull=True).exists()
    call_command("seed_demo")
    assert Lead.objects.count() == count
