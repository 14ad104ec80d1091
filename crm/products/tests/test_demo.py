"""seed_demo loads the demo catalogue once."""

from django.core.management import call_command

from crm.products.models import PricePolicy, Product, ProductCategory, ProductRegistration, Supplier


def _counts():
    return [m.objects.count() for m in (ProductCategory, Product, Supplier, PricePolicy, ProductRegistration)]


def test_seed_demo_loads_products_once(db):
    call_command("seed_demo")
    first = _counts()

    assert first[0] >= 3 and first[1] == 15 and first[2] == 2
    assert first[3] >= 4 and first[4] >= 3
    assert Product.objects.get(code="SV-IMPL").name == "实施服务(人天)"
    assert PricePolicy.objects.filter(kind="customer", customer__isnull=False).exists()
    call_command("seed_demo")
    assert _counts() == first
