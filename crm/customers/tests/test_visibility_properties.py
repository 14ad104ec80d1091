"""Property test: who sees which customer, against a plain-Python oracle.

A customer is visible when the viewer holds customers.view and either the owner is inside the
viewer's data scope, or the customer was shared with the viewer / the viewer is on its team.
Deleted customers are never in the list; public (pool) customers only through the pool.
"""

from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm.accounts.models import Role, User
from crm.accounts.tests.factories import RoleFactory, UserFactory
from crm.customers import selectors
from crm.customers.models import Customer, CustomerAccess, Pool

ROLE_KINDS = ("self", "subordinates", "department_tree", "all", "none")


def make_role(kind: str) -> Role | None:
    if kind == "none":
        return None
    return RoleFactory(data_scope=kind, permissions=["customers.view"], name=f"可见-{kind}")


world = st.fixed_dictionaries(
    {
        "users": st.lists(
            st.tuples(
                st.sampled_from(("root", "sales", "south", "shenzhen", "east", "finance")),
                st.sampled_from(ROLE_KINDS),
                st.integers(min_value=-1, max_value=7),
            ),
            min_size=2,
            max_size=8,
        ),
        "customers": st.lists(
            st.tuples(st.integers(min_value=0, max_value=7), st.booleans(), st.booleans()), max_size=12
        ),
        "grants": st.lists(st.tuples(st.integers(0, 11), st.integers(0, 7), st.booleans()), max_size=8),
    }
)


def subordinates(index: int, managers: dict[int, int | None]) -> set[int]:
    found, frontier = set(), {index}
    while frontier:
        level = {u for u, m in managers.items() if m in frontier} - found - {index}
        found |= level
        frontier = level
    return found


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=world)
def test_customer_visibility_matches_the_oracle(org, data):
    with transaction.atomic():
        roles = {kind: make_role(kind) for kind in ROLE_KINDS}
        users, managers, departments, scopes = [], {}, {}, {}
        for index, (dept, kind, manager) in enumerate(data["users"]):
            manager_index = manager if 0 <= manager < index else None
            user = UserFactory(
                department=org[dept],
                manager=users[manager_index] if manager_index is not None else None,
                roles=[roles[kind]] if roles[kind] else [],
            )
            users.append(user)
            managers[index], departments[index], scopes[index] = manager_index, org[dept], kind
        pool = Pool.objects.get(is_default=True)
        customers = []
        for number, (owner, public, deleted) in enumerate(data["customers"]):
            owner_index = owner % len(users)
            customers.append(
                (
                    Customer.objects.create(
                        name=f"客户{number}",
                        code=f"PT{number}",
                        owner=None if public else users[owner_index],
                        pool=pool if public else None,
                        deleted_at="2026-01-01T00:00:00Z" if deleted else None,
                    ),
                    None if public else owner_index,
                    deleted,
                )
            )
        granted: set[tuple[int, int]] = set()
        for customer_index, user_index, can_edit in data["grants"]:
            if not customers:
                break
            customer, _owner, _deleted = customers[customer_index % len(customers)]
            viewer = user_index % len(users)
            CustomerAccess.objects.get_or_create(
                customer=customer, user=users[viewer], defaults={"can_edit": can_edit}
            )
            granted.add((customers.index((customer, _owner, _deleted)), viewer))

        for viewer, user in enumerate(users):
            kind = scopes[viewer]
            expected = set()
            for index, (customer, owner, deleted) in enumerate(customers):
                if kind == "none" or deleted or owner is None:
                    continue
                if kind == "all":
                    in_scope = True
                elif kind == "self":
                    in_scope = owner == viewer
                elif kind == "subordinates":
                    in_scope = owner == viewer or owner in subordinates(viewer, managers)
                else:  # department_tree
                    in_scope = owner == viewer or departments[owner].path.startswith(departments[viewer].path)
                if in_scope or (index, viewer) in granted:
                    expected.add(customer.pk)
            fresh = User.objects.get(pk=user.pk)
            assert set(selectors.customers_visible(fresh).values_list("pk", flat=True)) == expected
        transaction.set_rollback(True)
