"""contract_get_for_user: the access check on the id, then the row by primary key."""

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from crm.contracts import selectors

pytestmark = pytest.mark.django_db


def test_the_owner_gets_the_contract_with_what_the_page_shows_in_three_queries(users, make_contract):
    contract = make_contract()
    with CaptureQueriesContext(connection) as ctx:
        found = selectors.contract_get_for_user(user=users["sales1"], contract_id=str(contract.pk))
        shown = (found.customer.name, found.owner.display_name, found.contact, found.our_signatory)
    # the scope's customer ids (cached per request in a view), the access check, the row and its relations
    assert len(ctx.captured_queries) == 3
    assert found == contract and shown[0] == "深圳华创科技有限公司"


@pytest.mark.parametrize("who", ["sales2", "norole"])
def test_outside_the_scope_it_is_404_like_a_missing_or_malformed_id(users, make_contract, who):
    contract = make_contract()
    for contract_id in (contract.pk, contract.pk + 1000, "abc", None):
        with pytest.raises(Http404):
            selectors.contract_get_for_user(user=users[who], contract_id=contract_id)
    for contract_id in (contract.pk + 1000, "abc", None):
        with pytest.raises(Http404):
            selectors.contract_get_for_user(user=users["sales1"], contract_id=contract_id)
