"""Property-based tests: the access policy against a plain-Python oracle (ORG-3).

Hypothesis draws a small organisation — a department tree under the root 办公室, users with
departments, managers and roles, and some operation-log rows — writes it to the database, and
then, for every user, compares what `crm.access.policy` answers with what the oracle below
computes from plain lists of parent ids, manager ids, department ids and role scopes.

Two "owned record" tables are exercised:
* the User table itself with owner_field="pk" (each user owns their own row);
* OperationLog with owner_field="actor", a real nullable foreign key; rows with actor=None are
  seen only by 全部 / super admin.

Each example runs inside its own savepoint, rolled back at the end, so examples don't see each
other's rows; every user is re-fetched before asking so the per-object cache never leaks.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from hypothesis import HealthCheck, example, given, note, settings
from hypothesis import strategies as st

from crm.access import policy
from crm.access.registry import ALL_PERMISSIONS
from crm.accounts.models import Department, Role, User
from crm.audit.models import OperationLog

Scope = Role.DataScope
SCOPES = tuple(Scope)

# A small pool, so that roles often share codes and unions are actually exercised.
PERMISSION_POOL = ("customers.view", "customers.delete", "contracts.approve", "reports.export", "roles.edit")
UNKNOWN_CODES = ("customers.fly", "bogus.view")  # stored on roles by mistake: must be ignored
NEVER_GRANTED = ("users.import", "tickets.approve")  # real codes only a super admin has here
CODES_TO_CHECK = PERMISSION_POOL + UNKNOWN_CODES + NEVER_GRANTED
assert set(PERMISSION_POOL) | set(NEVER_GRANTED) <= ALL_PERMISSIONS
assert not set(UNKNOWN_CODES) & ALL_PERMISSIONS


# ---------------------------------------------------------------------------- the drawn world


@dataclass(frozen=True)
class RoleSpec:
    scope: str
    custom: frozenset[int]  # department indexes; only meaningful for 定制, set on any role
    permissions: tuple[str, ...]
    is_super: bool


@dataclass(frozen=True)
class UserSpec:
    department: int | None  # department index
    manager: int | None  # index of an earlier user
    roles: tuple[int, ...]  # role indexes
    active: bool


@dataclass(frozen=True)
class World:
    parents: tuple[int | None, ...]  # parents[0] is None: index 0 is the root 办公室
    roles: tuple[RoleSpec, ...]
    users: tuple[UserSpec, ...]
    creation_order: tuple[int, ...]  # users are inserted in this order, so ids don't follow the chain
    log_actors: tuple[int | None, ...]


def _or_none(index: int) -> int | None:
    return None if index < 0 else index


@st.composite
def worlds(draw) -> World:
    n_depts = draw(st.integers(1, 8))
    # parent = i - 1 - offset: small offsets (which hypothesis favours) make deep trees
    parents = (None,) + tuple(i - 1 - draw(st.integers(0, i - 1)) for i in range(1, n_depts + 1))
    dept_index = st.integers(0, n_depts)

    roles = tuple(
        RoleSpec(
            scope=draw(st.sampled_from(SCOPES)),
            custom=frozenset(draw(st.lists(dept_index, max_size=3))),
            permissions=tuple(
                draw(st.lists(st.sampled_from(PERMISSION_POOL + UNKNOWN_CODES), max_size=4, unique=True))
            ),
            is_super=draw(st.integers(0, 9)) == 5,  # occasionally
        )
        for _ in range(draw(st.integers(1, 4)))
    )

    n_users = draw(st.integers(2, 10))
    users = [
        UserSpec(
            department=_or_none(draw(st.integers(-1, n_depts))),  # rarely none: allowed
            # manager = i - 1 - offset, favouring long chains; sometimes nobody
            manager=None if i == 0 or draw(st.integers(0, 3)) == 2 else i - 1 - draw(st.integers(0, i - 1)),
            roles=tuple(draw(st.lists(st.integers(0, len(roles) - 1), max_size=2, unique=True))),
            active=draw(st.integers(0, 7)) != 3,  # occasionally disabled
        )
        for i in range(n_users)
    ]
    creation_order = tuple(draw(st.permutations(range(n_users))))
    log_actors = tuple(draw(st.lists(st.none() | st.integers(0, n_users - 1), max_size=15)))
    return World(parents, roles, tuple(users), creation_order, log_actors)


# ---------------------------------------------------------------------------- the oracle


def _ancestors_or_self(world: World, dept: int) -> set[int]:
    found = set()
    while dept is not None:
        found.add(dept)
        dept = world.parents[dept]
    return found


def _managers_above(world: World, user: int) -> set[int]:
    found = set()
    boss = world.users[user].manager
    while boss is not None:
        found.add(boss)
        boss = world.users[boss].manager
    return found


def _subordinates(world: World, user: int) -> set[int]:
    return {v for v in range(len(world.users)) if user in _managers_above(world, v)}


def _roles_of(world: World, user: int) -> list[RoleSpec]:
    return [world.roles[r] for r in world.users[user].roles]


def _sees_all(world: World, user: int) -> bool:
    spec = world.users[user]
    return spec.active and any(r.is_super or r.scope == Scope.ALL for r in _roles_of(world, user))


def oracle_owners(world: World, user: int) -> set[int] | None:
    """Indexes of the users whose records `user` sees; None means every record, ownerless too."""
    if _sees_all(world, user):
        return None
    seen = {user}  # one always sees one's own records
    spec = world.users[user]
    if not spec.active:
        return seen  # the spec only strips permissions; read here as: a disabled user keeps no scope
    everyone = range(len(world.users))
    dept = spec.department
    for role in _roles_of(world, user):
        if role.scope == Scope.SELF_AND_SUBORDINATES:
            seen |= _subordinates(world, user)
        elif role.scope == Scope.DEPARTMENT and dept is not None:
            seen |= {v for v in everyone if world.users[v].department == dept}
        elif role.scope == Scope.DEPARTMENT_TREE and dept is not None:
            seen |= {
                v
                for v in everyone
                if world.users[v].department is not None
                and dept in _ancestors_or_self(world, world.users[v].department)
            }
        elif role.scope == Scope.CUSTOM:
            seen |= {v for v in everyone if world.users[v].department in role.custom}
    return seen


def oracle_permissions(world: World, user: int) -> frozenset[str]:
    """Codes `can()` grants. "Every permission" of a super admin is read as every code in the
    catalogue: a code the registry doesn't know is refused even to a super admin."""
    if not world.users[user].active:
        return frozenset()
    roles = _roles_of(world, user)
    if any(r.is_super for r in roles):
        return ALL_PERMISSIONS
    return frozenset(code for r in roles for code in r.permissions) & ALL_PERMISSIONS


def oracle_departments(world: World, user: int) -> set[int]:
    """Department indexes whose people the scope reaches: the user's own, the subtree for 本部门及下级,
    the chosen ones for 定制, those of the subordinates for 本人及下属, every one for 全部."""
    if _sees_all(world, user):
        return set(range(len(world.parents)))
    spec = world.users[user]
    found = {spec.department} if spec.department is not None else set()
    if not spec.active:
        return found
    for role in _roles_of(world, user):
        if role.scope == Scope.DEPARTMENT_TREE and spec.department is not None:
            found |= {d for d in range(len(world.parents)) if spec.department in _ancestors_or_self(world, d)}
        elif role.scope == Scope.CUSTOM:
            found |= role.custom
        elif role.scope == Scope.SELF_AND_SUBORDINATES:
            found |= {world.users[v].department for v in _subordinates(world, user)} - {None}
    return found


# ---------------------------------------------------------------------------- writing the world


@dataclass
class Built:
    department_pks: list[int]
    user_pks: list[int]
    log_pks: list[int]


def build(world: World) -> Built:
    root = Department.objects.get(parent__isnull=True)
    departments = [root]
    for i, parent in enumerate(world.parents[1:], start=1):
        above = departments[parent]
        dept = Department.objects.create(name=f"prop-dept-{i}", parent=above)
        dept.path = f"{above.path}{dept.pk}/"
        dept.save(update_fields=["path"])
        departments.append(dept)

    roles = []
    for j, spec in enumerate(world.roles):
        role = Role.objects.create(
            name=f"prop-role-{j}",
            data_scope=spec.scope,
            permissions=list(spec.permissions),
            is_super=spec.is_super,
        )
        role.custom_departments.set([departments[d] for d in spec.custom])
        roles.append(role)

    users: list[User | None] = [None] * len(world.users)
    for i in world.creation_order:
        spec = world.users[i]
        users[i] = User.objects.create(
            username=f"prop-user-{i}",
            is_active=spec.active,
            department=None if spec.department is None else departments[spec.department],
        )
    for i, spec in enumerate(world.users):
        if spec.manager is not None:
            User.objects.filter(pk=users[i].pk).update(manager=users[spec.manager])
        if spec.roles:
            users[i].roles.set([roles[r] for r in spec.roles])

    logs = [
        OperationLog.objects.create(actor=None if a is None else users[a], action=f"prop-log-{k}")
        for k, a in enumerate(world.log_actors)
    ]
    return Built([d.pk for d in departments], [u.pk for u in users], [log.pk for log in logs])


# ---------------------------------------------------------------------------- the property


def check_world(world: World) -> None:
    built = build(world)
    user_pks, log_pks, dept_pks = built.user_pks, built.log_pks, built.department_pks
    # Only this example's rows are compared (the root and the default roles pre-exist).
    user_rows = User.objects.filter(pk__in=user_pks)
    log_rows = OperationLog.objects.filter(pk__in=log_pks)

    for i in range(len(world.users)):
        note(f"viewer: user {i} = {world.users[i]}")
        viewer = User.objects.get(pk=user_pks[i])  # fresh: no cached answer from an earlier example
        owners = oracle_owners(world, i)

        expected_users = set(range(len(user_pks))) if owners is None else owners
        got_users = set(policy.visible(viewer, user_rows, owner_field="pk").values_list("pk", flat=True))
        assert got_users == {user_pks[v] for v in expected_users}, "visible(User, pk)"
        also = policy.visible_users(viewer).filter(pk__in=user_pks)
        assert set(also.values_list("pk", flat=True)) == got_users, "visible_users"

        expected_logs = {
            log_pks[k]
            for k, actor in enumerate(world.log_actors)
            if owners is None or (actor is not None and actor in owners)
        }
        got_logs = set(policy.visible(viewer, log_rows, owner_field="actor").values_list("pk", flat=True))
        assert got_logs == expected_logs, "visible(OperationLog, actor)"

        got_depts = policy.visible_departments(viewer).filter(pk__in=dept_pks)
        got_depts = set(got_depts.values_list("pk", flat=True))
        assert got_depts == {dept_pks[d] for d in oracle_departments(world, i)}, "visible_departments"

        permissions = oracle_permissions(world, i)
        assert policy.permissions_of(viewer) == permissions
        for code in CODES_TO_CHECK:
            assert policy.can(viewer, code) == (code in permissions), f"can({code!r})"
        # on an object: the permission and the object in scope (checked on a couple of rows)
        for pk in log_pks[:2]:
            row = OperationLog.objects.get(pk=pk)
            expected = "customers.view" in permissions and pk in expected_logs
            assert policy.can(viewer, "customers.view", row, owner_field="actor") == expected, "can(obj)"


# Worlds that are always tried first, whatever hypothesis draws: the cases a random draw of 40
# reaches only sometimes (a chain of managers four deep, 定制 on a department with children,
# a disabled super admin, ownerless logs next to a 全部 user).
HAND_WORLD = World(
    parents=(None, 0, 1, 0),  # root → 1 → 2, and 3 under root
    roles=(
        RoleSpec(Scope.DEPARTMENT_TREE, frozenset(), ("customers.view", "customers.fly"), False),
        RoleSpec(Scope.CUSTOM, frozenset({1}), (), False),
        RoleSpec(Scope.SELF_AND_SUBORDINATES, frozenset(), ("roles.edit",), False),
    ),
    users=(
        UserSpec(department=1, manager=None, roles=(0,), active=True),  # 0: tree at 1
        UserSpec(department=2, manager=0, roles=(1,), active=True),  # 1: custom {1}
        UserSpec(department=3, manager=1, roles=(2,), active=True),  # 2: self + subordinates
        UserSpec(department=1, manager=2, roles=(0, 2), active=False),  # 3: disabled
        UserSpec(department=None, manager=None, roles=(), active=True),  # 4: no roles, no department
    ),
    creation_order=(4, 2, 0, 3, 1),
    log_actors=(None, 0, 3),
)

CHAIN_WORLD = World(
    parents=(None, 0, 1, 2, 0),  # root → 1 → 2 → 3, and 4 under root
    roles=(
        RoleSpec(Scope.SELF_AND_SUBORDINATES, frozenset({4}), ("customers.view", "bogus.view"), False),
        RoleSpec(Scope.CUSTOM, frozenset({1}), ("contracts.approve",), False),
        RoleSpec(Scope.SELF, frozenset(), (), True),  # super admin, whatever its scope says
        RoleSpec(Scope.ALL, frozenset(), ("reports.export",), False),
        RoleSpec(Scope.DEPARTMENT, frozenset(), (), False),
    ),
    users=(
        UserSpec(department=0, manager=None, roles=(0,), active=True),  # sees 1, 2, 3, 4 down the chain
        UserSpec(department=4, manager=0, roles=(4,), active=True),
        UserSpec(department=3, manager=1, roles=(), active=True),
        UserSpec(department=2, manager=2, roles=(1,), active=True),  # 定制 {1}: not 2 or 3 below it
        UserSpec(department=4, manager=3, roles=(2,), active=False),  # disabled super admin
        UserSpec(department=1, manager=None, roles=(2, 0), active=True),  # super admin
        UserSpec(department=0, manager=None, roles=(3, 1), active=True),  # 全部
        UserSpec(department=None, manager=5, roles=(4, 1), active=True),  # 本部门 without a department
    ),
    creation_order=(7, 6, 5, 4, 3, 2, 1, 0),
    log_actors=(None, 0, 2, 4, 7, None),
)


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds())
@example(world=HAND_WORLD)
@example(world=CHAIN_WORLD)
def test_policy_agrees_with_the_oracle(db, world):
    with transaction.atomic():
        try:
            check_world(world)
        finally:
            transaction.set_rollback(True)


# ---------------------------------------------------------------------------- the oracle, checked by hand


def test_oracle_on_hand_built_worlds():
    """The oracle itself, on the two fixed worlds, whose answers can be read off their comments."""
    w = HAND_WORLD
    assert oracle_owners(w, 0) == {0, 1, 3}
    assert oracle_owners(w, 1) == {1, 0, 3}
    assert oracle_owners(w, 2) == {2, 3}
    assert oracle_owners(w, 3) == {3}
    assert oracle_owners(w, 4) == {4}
    assert oracle_permissions(w, 0) == {"customers.view"}
    assert oracle_permissions(w, 3) == frozenset()
    assert oracle_departments(w, 0) == {1, 2}
    assert oracle_departments(w, 2) == {3, 1}
    assert oracle_departments(w, 4) == set()

    w = CHAIN_WORLD
    assert oracle_owners(w, 0) == {0, 1, 2, 3, 4}
    assert oracle_owners(w, 3) == {3, 5}
    assert oracle_owners(w, 4) == {4}
    assert oracle_owners(w, 5) is None
    assert oracle_owners(w, 6) is None
    assert oracle_owners(w, 7) == {7, 5}
    assert oracle_permissions(w, 0) == {"customers.view"}
    assert oracle_permissions(w, 4) == frozenset()
    assert oracle_permissions(w, 5) == ALL_PERMISSIONS
    assert oracle_permissions(w, 6) == {"reports.export", "contracts.approve"}
    assert oracle_departments(w, 0) == {0, 4, 3, 2}
    assert oracle_departments(w, 3) == {2, 1}
    assert oracle_departments(w, 6) == {0, 1, 2, 3, 4}
