"""Pool services (POOL-1..3): claim, limits, apply/approve/reject, assign, recall, release, delete."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.access.policy import PermissionRequiredError
from crm.audit.models import OperationLog
from crm.customers import pool_selectors, pool_services, services
from crm.customers.models import ClaimRequest, Customer, CustomerAccess, Pool
from crm.customers.tests.pool_factories import (
    default_pool,
    owned_customers,
    public_customer,
    public_customers,
    set_limits,
)
from crm.messaging.models import Notification

pytestmark = pytest.mark.django_db


def only(customers):
    return Customer.objects.filter(pk__in=[c.pk for c in customers])


# ---------------------------------------------------------------- claim


def test_sales_claims_a_public_customer_and_it_is_logged(users):
    customer = public_customer(users["admin"])

    claimed = pool_services.pool_claim(actor=users["sales1"], customer=customer)

    customer.refresh_from_db()
    assert claimed.pk == customer.pk
    assert customer.owner == users["sales1"]
    assert customer.department == users["sales1"].department
    assert customer.claimed_at is not None
    assert customer.pool == default_pool()  # remembers where it came from
    log = OperationLog.objects.get(action="pool.claimed")
    assert log.actor == users["sales1"] and log.target_id == str(customer.pk)


def test_second_claim_of_the_same_customer_gets_a_clear_message(users):
    customer = public_customer(users["admin"])
    pool_services.pool_claim(actor=users["sales1"], customer=customer)

    with pytest.raises(ValidationError, match="该客户已被其他人领取"):
        pool_services.pool_claim(actor=users["sales2"], customer=customer)

    customer.refresh_from_db()
    assert customer.owner == users["sales1"]
    assert OperationLog.objects.filter(action="pool.claimed").count() == 1


def test_claim_needs_pool_create_permission(users):
    customer = public_customer(users["admin"])
    with pytest.raises(PermissionRequiredError):
        pool_services.pool_claim(actor=users["finance"], customer=customer)
    customer.refresh_from_db()
    assert customer.owner is None


def test_claim_from_a_pool_the_user_may_not_see_is_refused(users, org):
    hidden = Pool.objects.create(name="华东公海")
    hidden.departments.set([org["east"]])
    customer = public_customer(users["admin"], pool=hidden)

    with pytest.raises(ValidationError, match="不能查看或领取该公海"):
        pool_services.pool_claim(actor=users["sales1"], customer=customer)

    assert pool_services.pool_claim(actor=users["sales2"], customer=customer).owner == users["sales2"]


def test_claim_of_a_deleted_customer_is_refused(users):
    customer = public_customer(users["admin"])
    services.customers_delete(actor=users["admin"], customers=only([customer]))
    with pytest.raises(ValidationError, match="不存在或已被删除"):
        pool_services.pool_claim(actor=users["sales1"], customer=customer)


# ---------------------------------------------------------------- limits (POOL-3)


def test_owned_limit_refuses_the_claim_over_the_limit(users):
    owned_customers(users["sales1"], 2)
    set_limits(max_owned=3)
    first, second = public_customers(users["admin"], 2)

    pool_services.pool_claim(actor=users["sales1"], customer=first)
    with pytest.raises(ValidationError, match="您名下已有 3 个客户，已达到每人最多 3 个的上限"):
        pool_services.pool_claim(actor=users["sales1"], customer=second)

    second.refresh_from_db()
    assert second.owner is None


def test_daily_limit_counts_todays_claims_only(users):
    set_limits(max_claims_per_day=2)
    customers = public_customers(users["admin"], 3)
    pool_services.pool_claim(actor=users["sales1"], customer=customers[0])
    pool_services.pool_claim(actor=users["sales1"], customer=customers[1])

    with pytest.raises(
        ValidationError, match="您今天已领取 2 个客户，已达到每天最多 2 个的上限，请明天再领取"
    ):
        pool_services.pool_claim(actor=users["sales1"], customer=customers[2])

    # Yesterday's claims do not count.
    OperationLog.objects.filter(action="pool.claimed").update(created_at=timezone.now() - timedelta(days=1))
    pool_services.pool_claim(actor=users["sales1"], customer=customers[2])
    assert pool_selectors.claims_today(users["sales1"]) == 1


def test_former_owner_cannot_reclaim_within_the_window(users):
    set_limits(reclaim_after_days=7)
    customer = public_customer(users["admin"])
    pool_services.pool_claim(actor=users["sales1"], customer=customer)
    pool_services.pool_release(actor=users["sales1"], customer=customer, reason="没有需求")

    with pytest.raises(ValidationError, match="7 天内不能再次领取"):
        pool_services.pool_claim(actor=users["sales1"], customer=customer)
    # Somebody else may claim it at once.
    pool_services.pool_claim(actor=users["sales2"], customer=customer)
    customer.refresh_from_db()
    assert customer.owner == users["sales2"]


def test_former_owner_may_reclaim_after_the_window(users):
    set_limits(reclaim_after_days=7)
    customer = public_customer(users["admin"])
    pool_services.pool_claim(actor=users["sales1"], customer=customer)
    pool_services.pool_release(actor=users["sales1"], customer=customer, reason="没有需求")
    Customer.objects.filter(pk=customer.pk).update(released_at=timezone.now() - timedelta(days=8))

    pool_services.pool_claim(actor=users["sales1"], customer=customer)

    customer.refresh_from_db()
    assert customer.owner == users["sales1"]


def test_zero_means_no_limit(users):
    set_limits(max_owned=0, max_claims_per_day=0)
    for customer in public_customers(users["admin"], 5):
        pool_services.pool_claim(actor=users["sales1"], customer=customer)
    assert Customer.objects.filter(owner=users["sales1"]).count() == 5


# ---------------------------------------------------------------- apply, approve, reject


@pytest.fixture
def approval_pool():
    return Pool.objects.create(name="审批公海", claim_needs_approval=True)


def test_claim_in_an_approval_pool_files_an_application(users, approval_pool):
    customer = public_customer(users["admin"], pool=approval_pool)

    result = pool_services.pool_claim(actor=users["sales1"], customer=customer, reason="老客户介绍")

    assert isinstance(result, ClaimRequest)
    assert result.status == ClaimRequest.Status.PENDING and result.reason == "老客户介绍"
    customer.refresh_from_db()
    assert customer.owner is None
    assert OperationLog.objects.filter(action="pool.applied", target_id=str(customer.pk)).exists()
    with pytest.raises(ValidationError, match="您已申请过该客户"):
        pool_services.pool_apply(actor=users["sales1"], customer=customer)


def test_apply_in_an_open_pool_says_claim_directly(users):
    customer = public_customer(users["admin"])
    with pytest.raises(ValidationError, match="无需申请，可以直接领取"):
        pool_services.pool_apply(actor=users["sales1"], customer=customer)


def test_approve_assigns_to_the_applicant_and_messages_them(users, approval_pool):
    customer = public_customer(users["admin"], pool=approval_pool)
    mine = pool_services.pool_apply(actor=users["sales1"], customer=customer)
    other = pool_services.pool_apply(actor=users["sales2"], customer=customer)

    pool_services.pool_approve(actor=users["manager"], application=mine, note="同意")

    customer.refresh_from_db()
    mine.refresh_from_db()
    other.refresh_from_db()
    assert customer.owner == users["sales1"]
    assert mine.status == ClaimRequest.Status.APPROVED and mine.decided_by == users["manager"]
    assert other.status == ClaimRequest.Status.REJECTED  # closed: the customer is taken
    notification = Notification.objects.get(recipient=users["sales1"])
    assert "已批准" in notification.title and customer.name in notification.title
    assert OperationLog.objects.filter(action="pool.approved", actor=users["manager"]).count() == 1
    with pytest.raises(ValidationError, match="该申请已被处理"):
        pool_services.pool_approve(actor=users["manager"], application=mine)


def test_reject_keeps_the_customer_public_and_messages_the_applicant(users, approval_pool):
    customer = public_customer(users["admin"], pool=approval_pool)
    application = pool_services.pool_apply(actor=users["sales1"], customer=customer)

    pool_services.pool_reject(actor=users["manager"], application=application, note="请先跟进线索")

    application.refresh_from_db()
    customer.refresh_from_db()
    assert application.status == ClaimRequest.Status.REJECTED
    assert application.decision_note == "请先跟进线索"
    assert customer.owner is None
    assert "未获批准" in Notification.objects.get(recipient=users["sales1"]).title
    assert OperationLog.objects.filter(action="pool.rejected").count() == 1


def test_approve_needs_pool_edit(users, approval_pool):
    customer = public_customer(users["admin"], pool=approval_pool)
    application = pool_services.pool_apply(actor=users["sales1"], customer=customer)
    with pytest.raises(PermissionRequiredError):
        pool_services.pool_approve(actor=users["sales2"], application=application)
    application.refresh_from_db()
    assert application.status == ClaimRequest.Status.PENDING


def test_approve_respects_the_applicants_limits(users, approval_pool):
    customer = public_customer(users["admin"], pool=approval_pool)
    application = pool_services.pool_apply(actor=users["sales1"], customer=customer)
    owned_customers(users["sales1"], 2)
    set_limits(max_owned=2)

    with pytest.raises(ValidationError, match="名下已有 2 个客户"):
        pool_services.pool_approve(actor=users["manager"], application=application)

    application.refresh_from_db()
    customer.refresh_from_db()
    assert application.status == ClaimRequest.Status.PENDING and customer.owner is None


def test_approving_a_disabled_applicant_is_refused(users, approval_pool):
    customer = public_customer(users["admin"], pool=approval_pool)
    application = pool_services.pool_apply(actor=users["sales1"], customer=customer)
    users["sales1"].is_active = False
    users["sales1"].save()
    with pytest.raises(ValidationError, match="已停用"):
        pool_services.pool_approve(actor=users["manager"], application=application)


# ---------------------------------------------------------------- assign


def test_batch_assign_is_set_based_and_logs_one_row_per_customer(users, django_assert_max_num_queries):
    customers = public_customers(users["admin"], 30)
    pool_services.pool_assign(
        actor=users["manager"], customers=only(customers[:1]), to_user=users["sales2"]
    )  # warm the per-request caches (permissions, content types)

    with django_assert_max_num_queries(16) as small:
        pool_services.pool_assign(
            actor=users["manager"], customers=only(customers[1:3]), to_user=users["sales1"]
        )
    with django_assert_max_num_queries(len(small.captured_queries)):
        assigned = pool_services.pool_assign(
            actor=users["manager"], customers=only(customers[3:]), to_user=users["sales1"]
        )

    assert assigned == 27
    assert Customer.objects.filter(owner=users["sales1"]).count() == 29
    assert OperationLog.objects.filter(action="pool.assigned").count() == 30
    assert Notification.objects.filter(recipient=users["sales1"]).count() == 2


def test_assign_to_a_disabled_user_is_refused(users):
    customers = public_customers(users["admin"], 2)
    users["sales1"].is_active = False
    users["sales1"].save()

    with pytest.raises(ValidationError, match="不能把客户指派给已停用的员工"):
        pool_services.pool_assign(actor=users["manager"], customers=only(customers), to_user=users["sales1"])

    assert not Customer.objects.filter(owner__isnull=False).exists()


def test_assign_of_a_claimed_customer_changes_nothing(users):
    customers = public_customers(users["admin"], 3)
    pool_services.pool_claim(actor=users["sales2"], customer=customers[1])

    with pytest.raises(
        ValidationError, match="以下客户已被领取或不在您可见的公海中，未做任何指派：公海客户1"
    ):
        pool_services.pool_assign(actor=users["manager"], customers=only(customers), to_user=users["sales1"])

    assert not Customer.objects.filter(owner=users["sales1"]).exists()


def test_assign_to_someone_outside_the_scope_is_refused(users):
    customers = public_customers(users["admin"], 1)
    with pytest.raises(ValidationError, match="数据范围内的员工"):
        pool_services.pool_assign(actor=users["manager"], customers=only(customers), to_user=users["finance"])


def test_assign_respects_the_owned_limit_of_the_assignee(users):
    set_limits(max_owned=2)
    customers = public_customers(users["admin"], 3)
    with pytest.raises(ValidationError, match="再增加 3 个将超过每人最多 2 个的上限"):
        pool_services.pool_assign(actor=users["manager"], customers=only(customers), to_user=users["sales1"])
    assert not Customer.objects.filter(owner=users["sales1"]).exists()


def test_assign_needs_pool_transfer(users):
    customers = public_customers(users["admin"], 1)
    with pytest.raises(PermissionRequiredError):
        pool_services.pool_assign(actor=users["sales1"], customers=only(customers), to_user=users["sales1"])


# ---------------------------------------------------------------- recall


def test_batch_recall_is_set_based_keeps_history_and_removes_shares(users, django_assert_max_num_queries):
    mine = owned_customers(users["sales1"], 3, prefix="甲")
    theirs = owned_customers(users["sales2"], 27, prefix="乙")
    services.customers_share(actor=users["sales1"], customers=only(mine), users=[users["sales2"]])
    pool = default_pool()
    pool_services.pool_recall(actor=users["manager"], customers=only(mine[:1]), pool=pool, reason="预热")

    with django_assert_max_num_queries(14) as small:
        pool_services.pool_recall(
            actor=users["manager"], customers=only(mine[1:]), pool=pool, reason="长期未跟进"
        )
    with django_assert_max_num_queries(len(small.captured_queries)):
        recalled = pool_services.pool_recall(
            actor=users["manager"], customers=only(theirs), pool=pool, reason="长期未跟进"
        )

    assert recalled == 27
    customer = Customer.objects.get(pk=mine[1].pk)
    assert customer.owner is None and customer.pool == pool
    assert customer.previous_owner == users["sales1"]
    assert customer.release_reason == "长期未跟进" and customer.released_at is not None
    assert not CustomerAccess.objects.exists()
    assert OperationLog.objects.filter(action="pool.recalled").count() == 30
    assert Notification.objects.filter(recipient=users["sales2"]).count() == 1


def test_recall_outside_the_scope_changes_nothing(users):
    outside = owned_customers(users["finance"], 1, prefix="财务客户")
    inside = owned_customers(users["sales1"], 1)

    with pytest.raises(ValidationError, match="不能收回"):
        pool_services.pool_recall(
            actor=users["manager"], customers=only(outside + inside), pool=default_pool(), reason="整理"
        )

    assert Customer.objects.filter(owner__isnull=False).count() == 2
    assert not OperationLog.objects.filter(action="pool.recalled").exists()


def test_recall_message_does_not_reveal_names_outside_the_scope(users):
    outside = owned_customers(users["finance"], 1, prefix="保密客户")
    with pytest.raises(ValidationError) as error:
        pool_services.pool_recall(
            actor=users["manager"], customers=only(outside), pool=default_pool(), reason="x"
        )
    assert "保密客户" not in " ".join(error.value.messages)
    assert f"#{outside[0].pk}" in " ".join(error.value.messages)


def test_recall_of_a_public_customer_is_refused(users):
    customer = public_customer(users["admin"])
    with pytest.raises(ValidationError, match="已有负责人的客户"):
        pool_services.pool_recall(
            actor=users["manager"], customers=only([customer]), pool=default_pool(), reason="x"
        )


def test_recall_needs_a_reason(users):
    customers = owned_customers(users["sales1"], 1)
    with pytest.raises(ValidationError, match="请填写收回原因"):
        pool_services.pool_recall(
            actor=users["manager"], customers=only(customers), pool=default_pool(), reason=" "
        )


# ---------------------------------------------------------------- release, delete


def test_owner_releases_a_customer_back_to_its_pool(users):
    customer = public_customer(users["admin"])
    pool_services.pool_claim(actor=users["sales1"], customer=customer)
    services.customers_share(actor=users["sales1"], customers=only([customer]), users=[users["sales2"]])

    released = pool_services.pool_release(actor=users["sales1"], customer=customer, reason="客户已转行")

    assert released.owner is None and released.pool == default_pool()
    assert released.previous_owner == users["sales1"] and released.release_reason == "客户已转行"
    assert not CustomerAccess.objects.filter(customer=customer).exists()
    assert OperationLog.objects.filter(action="pool.released", actor=users["sales1"]).count() == 1


def test_only_the_owner_may_release(users):
    customer = owned_customers(users["sales1"], 1)[0]
    with pytest.raises(ValidationError, match="只有客户的负责人"):
        pool_services.pool_release(actor=users["manager"], customer=customer, reason="x")
    customer.refresh_from_db()
    assert customer.owner == users["sales1"]


def test_delete_moves_public_customers_to_the_recycle_bin(users):
    customers = public_customers(users["admin"], 3)
    assert pool_services.pool_customers_delete(actor=users["manager"], customers=only(customers)) == 3
    assert Customer.objects.filter(deleted_at__isnull=False).count() == 3
    assert OperationLog.objects.filter(action="customer.deleted").count() == 3


def test_delete_of_a_claimed_customer_changes_nothing(users):
    customers = public_customers(users["admin"], 2)
    pool_services.pool_claim(actor=users["sales1"], customer=customers[0])
    with pytest.raises(ValidationError, match="未做任何删除"):
        pool_services.pool_customers_delete(actor=users["manager"], customers=only(customers))
    assert not Customer.objects.filter(deleted_at__isnull=False).exists()


def test_delete_needs_pool_delete(users):
    customers = public_customers(users["admin"], 1)
    with pytest.raises(PermissionRequiredError):
        pool_services.pool_customers_delete(actor=users["sales1"], customers=only(customers))


# ---------------------------------------------------------------- settings


def test_pools_are_configured_by_department_and_user(users, org):
    pool = pool_services.pool_save(
        actor=users["administrator"],
        pool=None,
        name="华南公海",
        departments=[org["south"]],
        users=[users["sales2"]],
    )
    assert OperationLog.objects.filter(action="pool.pool_created").exists()
    from crm.customers.selectors import pools_visible

    assert pool in pools_visible(users["sales1"])  # department
    assert pool in pools_visible(users["sales2"])  # user
    assert pool not in pools_visible(users["norole"])
    with pytest.raises(ValidationError, match="已存在"):
        pool_services.pool_save(actor=users["administrator"], pool=None, name="华南公海")


def test_making_a_pool_default_unsets_the_old_default(users):
    old = default_pool()
    new = pool_services.pool_save(actor=users["administrator"], pool=None, name="新默认", is_default=True)
    old.refresh_from_db()
    assert new.is_default and not old.is_default
    with pytest.raises(ValidationError, match="必须有一个默认公海"):
        pool_services.pool_save(actor=users["administrator"], pool=new, name="新默认", is_default=False)


def test_a_pool_with_customers_or_the_default_cannot_be_removed(users):
    with pytest.raises(ValidationError, match="默认公海不能删除"):
        pool_services.pool_remove(actor=users["administrator"], pool=default_pool())
    other = Pool.objects.create(name="临时")
    public_customer(users["admin"], pool=other)
    with pytest.raises(ValidationError, match="还有客户"):
        pool_services.pool_remove(actor=users["administrator"], pool=other)
    empty = Pool.objects.create(name="空的")
    pool_services.pool_remove(actor=users["administrator"], pool=empty)
    assert not Pool.objects.filter(pk=empty.pk).exists()


def test_limits_are_changed_and_logged(users):
    limits = pool_services.pool_limits_update(
        actor=users["administrator"], max_owned=100, max_claims_per_day=5, reclaim_after_days=30
    )
    assert (limits.max_owned, limits.max_claims_per_day, limits.reclaim_after_days) == (100, 5, 30)
    log = OperationLog.objects.get(action="pool.limits_changed")
    assert log.changes["max_owned"] == [0, 100]
    with pytest.raises(PermissionRequiredError):
        pool_services.pool_limits_update(
            actor=users["manager"], max_owned=1, max_claims_per_day=1, reclaim_after_days=1
        )
