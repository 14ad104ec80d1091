from django.core.management import call_command

from crm.accounts.models import User
from crm.activities.models import FollowUp
from crm.customers.models import Contact, Customer


def test_seed_demo_loads_customers_once(db):
    call_command("seed_demo")
    customers = Customer.objects.count()
    assert customers == 300
    assert Customer.objects.filter(owner__isnull=True, pool__is_default=True).exists()  # some in the pool
    assert Contact.objects.filter(is_primary=True).count() == customers
    assert set(Customer.objects.exclude(owner=None).values_list("owner__username", flat=True)) <= {
        "sales1",
        "sales2",
        "manager",
    }
    assert FollowUp.objects.filter(customer__owner__isnull=False).exists()
    call_command("seed_demo")
    assert Customer.objects.count() == customers
    assert User.objects.filter(username="admin").count() == 1
