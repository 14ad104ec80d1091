import pytest
from django.core.management import call_command

from crm.opportunities.models import Opportunity, OpportunityLine, StageGroup

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_opportunities_once():
    call_command("seed_demo", verbosity=0)
    group = StageGroup.objects.get(is_default=True)
    assert list(group.stages.order_by("order").values_list("name", "win_rate")) == [
        ("初步接洽", 10),
        ("需求确认", 30),
        ("方案报价", 60),
        ("谈判", 80),
        ("赢单", 100),
        ("输单", 0),
    ]
    count = Opportunity.objects.count()
    assert 35 <= count <= 45
    assert Opportunity.objects.values("owner").distinct().count() == 3
    assert Opportunity.objects.values("stage").distinct().count() >= 5
    assert OpportunityLine.objects.exists()
    call_command("seed_demo", verbosity=0)
    assert Opportunity.objects.count() == count and StageGroup.objects.count() == 1
