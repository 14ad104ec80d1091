"""Helpers for the pool tests (test_pool_*.py): public customers, owned customers, limits."""

from crm.customers import services
from crm.customers.models import Customer, Pool, PoolSettings


def default_pool() -> Pool:
    return services.default_pool()


def public_customers(actor, count: int, pool: Pool | None = None, prefix: str = "公海客户") -> list[Customer]:
    pool = pool or default_pool()
    return [
        services.customer_create(actor=actor, values={"name": f"{prefix}{i}"}, pool=pool)
        for i in range(count)
    ]


def public_customer(actor, name: str = "深圳市中兴通讯股份有限公司", pool: Pool | None = None) -> Customer:
    return services.customer_create(actor=actor, values={"name": name}, pool=pool or default_pool())


def owned_customers(owner, count: int, prefix: str = "私有客户") -> list[Customer]:
    return [services.customer_create(actor=owner, values={"name": f"{prefix}{i}"}) for i in range(count)]


def set_limits(
    *, max_owned: int = 0, max_claims_per_day: int = 0, reclaim_after_days: int = 0
) -> PoolSettings:
    limits = PoolSettings.load()
    limits.max_owned = max_owned
    limits.max_claims_per_day = max_claims_per_day
    limits.reclaim_after_days = reclaim_after_days
    limits.save()
    return limits
