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


def owner_in_scope(kind: str, owner: int, viewer: int, managers: dict, departments: dict) -> bool:
    """The oracle of the data scopes: is `owner` inside `viewer`'s scope of this kind?"""
    if kind == "all":
        return True
    if kind == "self":
        return owner == viewer
    if kind == "subordinates":
        return owner == viewer or owner in subordinates(viewer, managers)
    # department_tree
    return owner == viewer or departments[owner].path.startswith(departments[viewer].path)


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
                in_scope = owner_in_scope(kind, owner, viewer, managers, departments)
                if in_scope or (index, viewer) in granted:
                    expected.add(customer.pk)
            fresh = User.objects.get(pk=user.pk)
            assert set(selectors.customers_visible(fresh).values_list("pk", flat=True)) == expected
        transaction.set_rollback(True)


# ---------------------------------------------------------------- delegation and write access

# In force twice as often as each other state, so that most examples exercise a live delegation.
DELEGATION_STATES = ("in_force", "in_force", "revoked", "expired", "future")

world_with_delegations = st.fixed_dictionaries(
    {
        "users": st.lists(
            st.tuples(
                st.sampled_from(("root", "sales", "south", "shenzhen", "east", "finance")),
                st.sampled_from(("self", "self", "subordinates", "department_tree", "all", "none")),
                st.booleans(),  # the role also grants customers.edit
                st.integers(min_value=-1, max_value=7),
            ),
            min_size=2,
            max_size=7,
        ),
        "customers": st.lists(st.tuples(st.integers(0, 7), st.booleans()), max_size=10),
        "grants": st.lists(st.tuples(st.integers(0, 9), st.integers(0, 7), st.booleans()), max_size=6),
        "delegations": st.lists(
            st.tuples(
                st.integers(0, 7), st.sets(st.integers(0, 9), max_size=4), st.sampled_from(DELEGATION_STATES)
            ),
            max_size=3,
        ),
    }
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=world_with_delegations)
def test_visibility_and_write_access_with_teams_and_delegations_match_the_oracle(org, data):
    """Who sees and who may change each customer, with shares, read-only and read-write team
    members, and delegations in force, revoked, expired or not yet started (ORG-4)."""
    from datetime import timedelta

    from django.utils import timezone

    from crm.customers.models import Delegation

    now = timezone.now()
    windows = {
        "in_force": (now - timedelta(days=1), now + timedelta(days=1), None),
        "revoked": (now - timedelta(days=1), now + timedelta(days=1), now - timedelta(hours=1)),
        "expired": (now - timedelta(days=3), now - timedelta(days=1), None),
        "future": (now + timedelta(days=1), now + timedelta(days=3), None),
    }
    with transaction.atomic():
        roles = {}
        users, managers, departments, scopes, editors = [], {}, {}, {}, {}
        for index, (dept, kind, can_edit, manager) in enumerate(data["users"]):
            if kind != "none" and (kind, can_edit) not in roles:
                permissions = ["customers.view"] + (["customers.edit"] if can_edit else [])
                roles[kind, can_edit] = RoleFactory(
                    data_scope=kind, permissions=permissions, name=f"可见-{kind}-{can_edit}"
                )
            manager_index = manager if 0 <= manager < index else None
            user = UserFactory(
                department=org[dept],
                manager=users[manager_index] if manager_index is not None else None,
                roles=[roles[kind, can_edit]] if kind != "none" else [],
            )
            users.append(user)
            managers[index], departments[index], scopes[index] = manager_index, org[dept], kind
            editors[index] = kind != "none" and can_edit
        customers = []
        for number, (owner, deleted) in enumerate(data["customers"]):
            owner_index = owner % len(users)
            customer = Customer.objects.create(
                name=f"客户{number}",
                code=f"PD{number}",
                owner=users[owner_index],
                deleted_at="2026-01-01T00:00:00Z" if deleted else None,
            )
            customers.append((customer, owner_index, deleted))
        read_grants, write_grants = set(), set()
        for customer_index, user_index, can_edit in data["grants"]:
            if not customers:
                break
            index, viewer = customer_index % len(customers), user_index % len(users)
            access, _created = CustomerAccess.objects.get_or_create(
                customer=customers[index][0], user=users[viewer], defaults={"can_edit": can_edit}
            )
            read_grants.add((index, viewer))
            if access.can_edit:
                write_grants.add((index, viewer))
        delegated = set()
        for to_index, customer_indexes, state in data["delegations"]:
            if not customers:
                break
            to_user = to_index % len(users)
            starts, ends, revoked = windows[state]
            delegation = Delegation.objects.create(
                from_user=users[0], to_user=users[to_user], starts_at=starts, ends_at=ends, revoked_at=revoked
            )
            chosen = {i % len(customers) for i in customer_indexes}
            delegation.customers.set([customers[i][0] for i in chosen])
            if state == "in_force":
                delegated |= {(i, to_user) for i in chosen}

        for viewer, user in enumerate(users):
            kind = scopes[viewer]
            seen, writable = set(), set()
            for index, (customer, owner, deleted) in enumerate(customers):
                if kind == "none" or deleted:
                    continue
                in_scope = owner_in_scope(kind, owner, viewer, managers, departments)
                key = (index, viewer)
                if in_scope or key in read_grants or key in delegated:
                    seen.add(customer.pk)
                if editors[viewer] and (in_scope or key in write_grants or key in delegated):
                    writable.add(customer.pk)
            fresh = User.objects.get(pk=user.pk)
            assert set(selectors.customers_visible(fresh).values_list("pk", flat=True)) == seen
            assert set(selectors.customers_editable(fresh).values_list("pk", flat=True)) == writable
            for customer, _owner, deleted in customers:
                if not deleted:
                    assert selectors.can_edit_customer(fresh, customer) == (customer.pk in writable)
        transaction.set_rollback(True)
