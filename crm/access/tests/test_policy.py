"""Readable examples of the access policy, one or two per data scope (ORG-3).

The organisation comes from the shared `org` / `users` fixtures (conftest.py):

    办公室 (admin, administrator, service)
    ├── 销售中心 (manager)
    │   ├── 华南销售部 (sales1 → manager)
    │   │   └── 深圳组 (norole)
    │   └── 华东销售部 (sales2 → manager)
    └── 财务部 (finance)

Users are always re-fetched before asking the policy: answers are cached on the user object.
"""

import pytest
from django.http import Http404

from crm.access import policy
from crm.access.registry import ALL_PERMISSIONS
from crm.accounts.models import Department, Role, User
from crm.accounts.tests.factories import DepartmentFactory, RoleFactory, UserFactory
from crm.audit.models import OperationLog

pytestmark = pytest.mark.django_db

Scope = Role.DataScope


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


def seen_users(user: User) -> set[str]:
    """Usernames of the User rows `user` sees, treating each user as owning their own row."""
    qs = policy.visible(fresh(user), User.objects.all(), owner_field="pk")
    return set(qs.values_list("username", flat=True))


def seen_logs(user: User) -> set[str]:
    qs = policy.visible(fresh(user), OperationLog.objects.all(), owner_field="actor")
    return set(qs.values_list("action", flat=True))


def seen_departments(user: User) -> set[str]:
    return set(policy.visible_departments(fresh(user)).values_list("name", flat=True))


def role(scope: str, *, permissions=(), custom=(), is_super=False) -> Role:
    r = RoleFactory(data_scope=scope, permissions=list(permissions), is_super=is_super)
    r.custom_departments.set(custom)
    return r


@pytest.fixture
def logs(users):
    """One log per user, named after its actor, and one written by nobody (a system job)."""
    for username, user in users.items():
        OperationLog.objects.create(actor=user, action=f"by-{username}")
    OperationLog.objects.create(actor=None, action="by-nobody")


EVERYONE = {"admin", "administrator", "manager", "sales1", "sales2", "finance", "service", "norole"}


# ------------------------------------------------------------------ 本人 (SELF)


def test_self_scope_sees_only_own_rows(users, logs):
    assert seen_users(users["sales1"]) == {"sales1"}
    assert seen_logs(users["sales1"]) == {"by-sales1"}


def test_user_without_roles_sees_own_rows_and_may_do_nothing(users, logs):
    norole = fresh(users["norole"])
    assert seen_users(norole) == {"norole"}
    assert seen_logs(norole) == {"by-norole"}
    assert policy.permissions_of(norole) == frozenset()
    assert not policy.can(norole, "customers.view")
    assert seen_departments(norole) == {"深圳组"}


# ------------------------------------------------------------------ 本人及下属 (SELF_AND_SUBORDINATES)


def test_subordinates_scope_follows_the_manager_chain_at_any_depth(org):
    boss_role = role(Scope.SELF_AND_SUBORDINATES)
    boss = UserFactory(username="boss", department=org["root"], roles=[boss_role])
    lead = UserFactory(username="lead", department=org["finance"], manager=boss, roles=[boss_role])
    worker = UserFactory(username="worker", department=org["shenzhen"], manager=lead, roles=[boss_role])
    UserFactory(username="peer", department=org["root"])  # same department as boss, no chain
    OperationLog.objects.create(actor=worker, action="by-worker")
    OperationLog.objects.create(actor=None, action="by-nobody")

    assert seen_users(boss) == {"boss", "lead", "worker"}
    assert seen_users(lead) == {"lead", "worker"}
    assert seen_users(worker) == {"worker"}
    assert seen_logs(boss) == {"by-worker"}
    # the departments the chain reaches: the boss's own, and those of everyone below
    assert seen_departments(boss) == {"办公室", "财务部", "深圳组"}
    assert policy.subordinate_ids(boss) == {lead.pk, worker.pk}


# ------------------------------------------------------------------ 本部门 (DEPARTMENT)


def test_department_scope_sees_own_department_but_not_below(users, logs):
    head = UserFactory(
        username="head", department=users["manager"].department, roles=[role(Scope.DEPARTMENT)]
    )
    assert seen_users(head) == {"head", "manager"}
    assert seen_logs(head) == {"by-manager"}
    assert seen_departments(head) == {"销售中心"}


def test_department_scope_without_a_department_sees_only_self(users):
    loner = UserFactory(username="loner", department=None, roles=[role(Scope.DEPARTMENT)])
    UserFactory(username="other-loner", department=None)
    assert seen_users(loner) == {"loner"}
    assert seen_departments(loner) == set()


# ------------------------------------------------------------------ 本部门及下级 (DEPARTMENT_TREE)


def test_department_tree_scope_sees_the_whole_subtree(users, logs):
    assert seen_users(users["manager"]) == {"manager", "sales1", "sales2", "norole"}
    assert seen_logs(users["manager"]) == {"by-manager", "by-sales1", "by-sales2", "by-norole"}
    assert seen_departments(users["manager"]) == {"销售中心", "华南销售部", "深圳组", "华东销售部"}


def test_department_tree_prefix_does_not_leak_into_siblings_with_longer_ids(org):
    """'/1/4/' must not match '/1/45/': the trailing slash of the path is what keeps them apart."""
    root = org["root"]
    a = DepartmentFactory(name="a", parent=root)
    # a sibling whose id starts with a's id (4 and 47); ids above a's are free in this transaction
    sibling_pk = a.pk * 10 + 7
    sibling = Department.objects.create(
        pk=sibling_pk, name="b", parent=root, path=f"{root.path}{sibling_pk}/"
    )
    assert sibling.path.startswith(a.path.rstrip("/"))
    viewer = UserFactory(username="viewer", department=a, roles=[role(Scope.DEPARTMENT_TREE)])
    UserFactory(username="neighbour", department=sibling)
    assert seen_users(viewer) == {"viewer"}
    assert seen_departments(viewer) == {"a"}


# ------------------------------------------------------------------ 定制 (CUSTOM)


def test_custom_scope_sees_exactly_the_chosen_departments_not_their_children(users, logs, org):
    auditor = UserFactory(
        username="auditor", department=org["finance"], roles=[role(Scope.CUSTOM, custom=[org["south"]])]
    )
    # 深圳组 (norole) is below 华南销售部 and stays out; 财务部 is the auditor's own department but
    # 定制 does not include it, so only the auditor's own row is seen there
    assert seen_users(auditor) == {"auditor", "sales1"}
    assert seen_logs(auditor) == {"by-sales1"}
    assert seen_departments(auditor) == {"财务部", "华南销售部"}


def test_custom_departments_of_a_non_custom_role_are_ignored(users, org):
    r = role(Scope.SELF, custom=[org["south"]])
    user = UserFactory(username="selfish", department=org["finance"], roles=[r])
    assert seen_users(user) == {"selfish"}


# ------------------------------------------------------------------ 全部 (ALL) and super admin


def test_all_scope_sees_everything_including_rows_without_owner(users, logs):
    assert seen_users(users["finance"]) == EVERYONE
    assert seen_logs(users["finance"]) == {f"by-{name}" for name in EVERYONE} | {"by-nobody"}
    assert seen_departments(users["finance"]) == set(Department.objects.values_list("name", flat=True))


def test_super_admin_sees_everything_and_may_do_everything(users, logs):
    admin = fresh(users["admin"])
    assert seen_users(admin) == EVERYONE
    assert "by-nobody" in seen_logs(admin)
    assert policy.is_super_admin(admin)
    assert policy.permissions_of(admin) == ALL_PERMISSIONS
    assert all(policy.can(admin, code) for code in ALL_PERMISSIONS)


def test_super_role_with_a_narrow_scope_still_sees_everything(users, logs):
    odd_super = UserFactory(
        username="odd", department=users["norole"].department, roles=[role(Scope.SELF, is_super=True)]
    )
    assert seen_users(odd_super) == EVERYONE | {"odd"}


# ------------------------------------------------------------------ several roles, inactive users


def test_scopes_of_several_roles_are_united(users, org, logs):
    user = UserFactory(
        username="multi",
        department=org["east"],
        roles=[
            role(Scope.DEPARTMENT, permissions=["customers.view"]),
            role(Scope.CUSTOM, custom=[org["finance"]], permissions=["contracts.approve"]),
        ],
    )
    assert seen_users(user) == {"multi", "sales2", "finance"}
    u = fresh(user)
    assert policy.can(u, "customers.view")
    assert policy.can(u, "contracts.approve")
    assert not policy.can(u, "customers.delete")


def test_inactive_user_has_no_permissions(users):
    manager = users["manager"]
    manager.is_active = False
    manager.save(update_fields=["is_active"])
    disabled = fresh(manager)
    assert policy.permissions_of(disabled) == frozenset()
    assert not policy.can(disabled, "customers.view")
    # the only rows a disabled user is ever credited with are their own
    assert seen_users(disabled) == {"manager"}


def test_disabled_super_admin_has_no_permissions(users):
    User.objects.filter(pk=users["admin"].pk).update(is_active=False)
    admin = fresh(users["admin"])
    assert not policy.is_super_admin(admin)
    assert not policy.can(admin, "customers.view")


# ------------------------------------------------------------------ can()


def test_can_ignores_unknown_codes_stored_on_a_role(org):
    r = role(Scope.SELF, permissions=["customers.view", "customers.fly", "nonsense", "bogus.view"])
    user = fresh(UserFactory(department=org["root"], roles=[r]))
    assert policy.permissions_of(user) == frozenset({"customers.view"})
    assert policy.can(user, "customers.view")
    assert not policy.can(user, "customers.fly")
    assert not policy.can(user, "bogus.view")


def test_can_on_an_object_also_requires_the_object_in_scope(users, logs):
    sales1 = fresh(users["sales1"])
    own = OperationLog.objects.get(action="by-sales1")
    other = OperationLog.objects.get(action="by-sales2")
    assert policy.can(sales1, "customers.view", own, owner_field="actor")
    assert not policy.can(sales1, "customers.view", other, owner_field="actor")
    assert not policy.can(sales1, "customers.delete", own, owner_field="actor")  # no such permission


def test_answers_are_cached_until_forget(users):
    sales1 = fresh(users["sales1"])
    assert not policy.can(sales1, "contracts.approve")
    sales1.roles.add(role(Scope.SELF, permissions=["contracts.approve"]))
    assert not policy.can(sales1, "contracts.approve")  # still the cached answer
    policy.forget(sales1)
    assert policy.can(sales1, "contracts.approve")
    policy.forget(sales1)
    policy.forget(sales1)  # forgetting twice is harmless


# ------------------------------------------------------------------ get_visible_or_404


def test_get_visible_or_404(users, logs):
    sales1 = fresh(users["sales1"])
    own = OperationLog.objects.get(action="by-sales1")
    other = OperationLog.objects.get(action="by-sales2")
    missing_id = OperationLog.objects.order_by("-pk").values_list("pk", flat=True).first() + 1000

    assert policy.get_visible_or_404(sales1, OperationLog.objects.all(), "actor", pk=own.pk) == own
    with pytest.raises(Http404):  # exists, but not in scope
        policy.get_visible_or_404(sales1, OperationLog.objects.all(), "actor", pk=other.pk)
    with pytest.raises(Http404):  # does not exist at all
        policy.get_visible_or_404(sales1, OperationLog.objects.all(), "actor", pk=missing_id)
    with pytest.raises(Http404):  # not even an id
        policy.get_visible_or_404(sales1, OperationLog.objects.all(), "actor", pk="abc")
    # the User table, where each user owns their own row
    assert policy.get_visible_or_404(sales1, User.objects.all(), "pk", pk=sales1.pk) == sales1
    with pytest.raises(Http404):
        policy.get_visible_or_404(sales1, User.objects.all(), "pk", pk=users["sales2"].pk)
    # owner_field=None skips the scope check but still 404s for missing rows
    assert policy.get_visible_or_404(sales1, OperationLog.objects.all(), None, pk=other.pk) == other
    with pytest.raises(Http404):
        policy.get_visible_or_404(sales1, OperationLog.objects.all(), None, pk=missing_id)


# ------------------------------------------------------------------ query counts


def test_visible_is_one_query_once_the_access_answer_is_cached(
    users, logs, django_assert_max_num_queries, django_assert_num_queries
):
    manager = fresh(users["manager"])  # 销售经理: 本部门及下级
    qs = OperationLog.objects.all()
    first = list(policy.visible(manager, qs, "actor"))  # loads roles + the user's department
    with django_assert_max_num_queries(1):
        again = list(policy.visible(manager, qs, "actor"))
    assert again == first
    with django_assert_num_queries(1):
        list(policy.visible(manager, User.objects.all(), "pk"))


def test_subordinates_scope_costs_one_query_per_level_of_the_manager_chain(
    org, django_assert_num_queries, django_assert_max_num_queries
):
    """本人及下属 walks the manager chain level by level: with a chain `depth` levels deep below the
    user, `visible()` runs depth + 1 queries to find the subordinates (the last one finds nobody and
    ends the walk) plus the one query that reads the records."""
    r = role(Scope.SELF_AND_SUBORDINATES)
    top = UserFactory(department=org["root"], roles=[r])
    above = top
    depth = 4
    for _ in range(depth):
        UserFactory(department=org["root"], manager=above)  # a sibling at each level costs nothing extra
        above = UserFactory(department=org["root"], manager=above)
    top = fresh(top)
    policy.access_of(top)  # cache the roles
    with django_assert_num_queries(depth + 2):
        rows = list(policy.visible(top, User.objects.all(), "pk"))
    assert len(rows) == 1 + 2 * depth
    with django_assert_max_num_queries(depth + 2):
        list(policy.visible(top, User.objects.all(), "pk"))


def test_anonymous_sees_nothing_and_may_do_nothing(users, logs):
    from django.contrib.auth.models import AnonymousUser

    anonymous = AnonymousUser()
    assert not policy.visible(anonymous, OperationLog.objects.all(), "actor").exists()
    assert not policy.can(anonymous, "customers.view")
    with pytest.raises(Http404):
        policy.get_visible_or_404(anonymous, OperationLog.objects.all(), "actor", action="by-admin")
