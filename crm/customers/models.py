from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DictionaryItem(models.Model):
    """One value of an admin-kept list (CUS-12): categories, levels, statuses, regions, …"""

    class Kind(models.TextChoices):
        CATEGORY = "category", _("客户分类")
        VALUE_LEVEL = "value_level", _("价值等级")
        STATUS = "status", _("客户状态")
        STAGE = "stage", _("跟进程度")
        REGION = "region", _("地区")
        INDUSTRY = "industry", _("行业")
        SOURCE = "source", _("客户来源")
        FOLLOWUP_TYPE = "followup_type", _("跟进方式")
        LOST_REASON = "lost_reason", _("丢单原因")

    kind = models.CharField(_("字典"), max_length=20, choices=Kind)
    name = models.CharField(_("名称"), max_length=64)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("上级"),
    )
    sort_order = models.PositiveIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("字典项")
        verbose_name_plural = _("字典项")
        ordering = ["kind", "sort_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "parent", "name"], name="dictionary_unique_name"),
            models.UniqueConstraint(
                fields=["kind", "name"],
                condition=models.Q(parent__isnull=True),
                name="dictionary_unique_root_name",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class NumberingRule(models.Model):
    """How a record's code is made (CUS-12): prefix + date part + zero-padded sequence."""

    class DatePart(models.TextChoices):
        NONE = "", _("无")
        YEAR = "%Y", _("年（2026）")
        MONTH = "%Y%m", _("年月（202611）")
        DAY = "%Y%m%d", _("年月日（20261123）")

    key = models.SlugField(_("对象"), max_length=32, unique=True)
    prefix = models.CharField(_("前缀"), max_length=16, blank=True)
    date_part = models.CharField(
        _("日期部分"), max_length=8, choices=DatePart, blank=True, default=DatePart.DAY
    )
    padding = models.PositiveSmallIntegerField(_("序号位数"), default=4)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("编号规则")
        verbose_name_plural = _("编号规则")

    def __str__(self) -> str:
        return self.key


class NumberSequence(models.Model):
    """The last number handed out for a rule in one period; rows are locked while incremented."""

    key = models.SlugField(max_length=32)
    period = models.CharField(max_length=16, blank=True)
    last_value = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "period"], name="number_sequence_unique_period")
        ]

    def __str__(self) -> str:
        return f"{self.key}/{self.period}: {self.last_value}"


class Pool(models.Model):
    """A public customer pool (公海, POOL-1): who may see and claim from it is configured."""

    name = models.CharField(_("公海名称"), max_length=64, unique=True)
    description = models.CharField(_("说明"), max_length=255, blank=True)
    is_default = models.BooleanField(_("默认公海"), default=False)
    claim_needs_approval = models.BooleanField(_("领取需审批"), default=False)
    departments = models.ManyToManyField(
        "accounts.Department", blank=True, related_name="+", verbose_name=_("可见部门")
    )
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("可见员工")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("公海")
        verbose_name_plural = _("公海")
        ordering = ["-is_default", "id"]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    """A customer (CUS-1). Owned by a user, or lying in a pool (owner empty) when public."""

    class Kind(models.TextChoices):
        ENTERPRISE = "enterprise", _("企业客户")
        INDIVIDUAL = "individual", _("个人客户")

    kind = models.CharField(_("客户类型"), max_length=16, choices=Kind, default=Kind.ENTERPRISE)
    name = models.CharField(_("客户名称"), max_length=200)
    code = models.CharField(_("客户编号"), max_length=40, unique=True)
    keyword = models.CharField(_("关键字"), max_length=64, blank=True)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, null=True, blank=True, unique=True)
    status = models.ForeignKey(
        DictionaryItem,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("客户状态"),
    )
    category = models.ForeignKey(
        DictionaryItem,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("客户分类"),
    )
    value_level = models.ForeignKey(
        DictionaryItem,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("价值等级"),
    )
    stage = models.ForeignKey(
        DictionaryItem,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("跟进程度"),
    )
    region = models.ForeignKey(
        DictionaryItem,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("地区"),
    )
    industry = models.ForeignKey(
        DictionaryItem,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("行业"),
    )
    source = models.ForeignKey(
        DictionaryItem,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("客户来源"),
    )
    address = models.CharField(_("地址"), max_length=255, blank=True)
    postcode = models.CharField(_("邮编"), max_length=10, blank=True)
    phone = models.CharField(_("电话"), max_length=32, blank=True)
    fax = models.CharField(_("传真"), max_length=32, blank=True)
    mobile = models.CharField(_("手机"), max_length=20, blank=True)
    qq = models.CharField("QQ", max_length=20, blank=True)
    wechat = models.CharField(_("微信"), max_length=64, blank=True)
    email = models.EmailField(_("邮箱"), max_length=254, blank=True)
    website = models.URLField(_("网址"), max_length=255, blank=True)
    legal_representative = models.CharField(_("法定代表人"), max_length=64, blank=True)
    registered_capital = models.DecimalField(
        _("注册资本（万元）"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    credit_limit = models.DecimalField(_("信用额度"), max_digits=16, decimal_places=2, null=True, blank=True)
    tags = models.CharField(_("标签"), max_length=255, blank=True, help_text=_("多个标签用逗号分隔"))
    remark = models.TextField(_("备注"), blank=True)

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="customers",
        verbose_name=_("负责人"),
    )
    department = models.ForeignKey(
        "accounts.Department",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("所属部门"),
    )
    pool = models.ForeignKey(
        Pool,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="customers",
        verbose_name=_("所在公海"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("创建人"),
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    claimed_at = models.DateTimeField(_("领取时间"), null=True, blank=True)
    last_followup_at = models.DateTimeField(_("最近跟进时间"), null=True, blank=True)
    # The last won opportunity or approved contract; kept by those services for the NO_DEAL rule.
    last_deal_at = models.DateTimeField(_("最近成交时间"), null=True, blank=True)
    next_contact_at = models.DateTimeField(_("下次联系时间"), null=True, blank=True)
    protected_until = models.DateTimeField(_("保护截止"), null=True, blank=True)
    previous_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("前负责人"),
    )
    released_at = models.DateTimeField(_("退回公海时间"), null=True, blank=True)
    release_reason = models.CharField(_("退回原因"), max_length=200, blank=True)
    deleted_at = models.DateTimeField(_("删除时间"), null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("删除人"),
    )

    # Search columns, kept by services: the name's pinyin (all readings of heteronyms, space
    # separated), its initials, and its 1- and 2-character substrings for short Chinese queries.
    name_pinyin = models.TextField(blank=True, editable=False)
    name_initials = models.TextField(blank=True, editable=False)
    name_grams = models.TextField(blank=True, editable=False)
    # Duplicate control (CUS-7): the normalised company name (see crm/customers/duplicates.py).
    name_key = models.CharField(max_length=200, blank=True, editable=False, db_index=True)
    # Values of admin-defined custom fields (CUS-11), keyed by the field's key.
    custom_data = models.JSONField(_("自定义字段"), default=dict, blank=True)

    class Meta:
        verbose_name = _("客户")
        verbose_name_plural = _("客户")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The list: "mine / my scope, newest first" and the pool list, both keyset-paged.
            models.Index(
                fields=["owner", "-created_at", "-id"],
                name="customer_owner_recent_idx",
                condition=models.Q(deleted_at__isnull=True),
            ),
            models.Index(
                fields=["pool", "-created_at", "-id"],
                name="customer_pool_recent_idx",
                condition=models.Q(deleted_at__isnull=True, owner__isnull=True),
            ),
            models.Index(fields=["owner", "last_followup_at"], name="customer_owner_followup_idx"),
            # Duplicate control: LOWER(keyword) IN (…) (crm/customers/duplicates.py); without it every
            # new customer or imported row scanned the whole table.
            models.Index(Lower("keyword"), name="customer_keyword_lower_idx"),
            models.Index(
                fields=["deleted_at"],
                name="customer_deleted_idx",
                condition=models.Q(deleted_at__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(owner__isnull=False)
                | models.Q(pool__isnull=False)
                | models.Q(deleted_at__isnull=False),
                name="customer_owned_or_pooled",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_public(self) -> bool:
        return self.owner_id is None

    @property
    def is_protected(self) -> bool:
        return bool(self.protected_until and self.protected_until > timezone.now())


class CustomerAccess(models.Model):
    """A user who is not the owner but may see (shared, 共享) or work on (team, 团队) a customer."""

    class Kind(models.TextChoices):
        SHARED = "shared", _("共享")
        TEAM = "team", _("团队成员")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="accesses")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="customer_accesses"
    )
    kind = models.CharField(_("类型"), max_length=10, choices=Kind, default=Kind.SHARED)
    can_edit = models.BooleanField(_("可编辑"), default=False)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("授权人"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("客户共享与团队")
        verbose_name_plural = _("客户共享与团队")
        constraints = [
            models.UniqueConstraint(fields=["customer", "user"], name="customer_access_unique_user")
        ]
        indexes = [models.Index(fields=["user", "customer"], name="customer_access_user_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} → {self.user_id} ({self.kind})"


class Contact(models.Model):
    """A person at a customer (CON-1); one of them is the primary contact."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("客户")
    )
    name = models.CharField(_("姓名"), max_length=64)
    title = models.CharField(_("职务"), max_length=64, blank=True)
    department = models.CharField(_("部门"), max_length=64, blank=True)
    mobile = models.CharField(_("手机"), max_length=20, blank=True)
    phone = models.CharField(_("电话"), max_length=32, blank=True)
    email = models.EmailField(_("邮箱"), max_length=254, blank=True)
    qq = models.CharField("QQ", max_length=20, blank=True)
    wechat = models.CharField(_("微信"), max_length=64, blank=True)
    birthday = models.DateField(_("生日"), null=True, blank=True)
    hometown = models.CharField(_("籍贯"), max_length=64, blank=True)
    is_primary = models.BooleanField(_("首要联系人"), default=False)
    remark = models.TextField(_("备注"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("创建人"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("联系人")
        verbose_name_plural = _("联系人")
        ordering = ["-is_primary", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(is_primary=True),
                name="contact_one_primary_per_customer",
            ),
        ]

    def __str__(self) -> str:
        return self.name


# ---------------------------------------------------------------- Pool claims and limits (POOL-2, POOL-3)


class PoolSettings(models.Model):
    """Claim limits for everyone (POOL-3); one row (pk=1), read with `PoolSettings.load()`.

    0 means "no limit" for every number."""

    max_owned = models.PositiveIntegerField(
        _("每人最多拥有客户数"), default=0, help_text=_("领取后名下客户总数不能超过此数；0 表示不限。")
    )
    max_claims_per_day = models.PositiveIntegerField(
        _("每人每天最多领取数"), default=0, help_text=_("每人每天从公海领取的客户数；0 表示不限。")
    )
    reclaim_after_days = models.PositiveIntegerField(
        _("前负责人再次领取间隔（天）"),
        default=0,
        help_text=_("客户退回或被收回公海后，前负责人需等待的天数；0 表示不限制。"),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("公海领取限制")
        verbose_name_plural = _("公海领取限制")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)

    @classmethod
    def load(cls) -> "PoolSettings":
        settings_row, _created = cls.objects.get_or_create(pk=1)
        return settings_row


class ClaimRequest(models.Model):
    """An application (申请) to claim a customer from a pool that needs approval (批示)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待审批")
        APPROVED = "approved", _("已批准")
        REJECTED = "rejected", _("已驳回")

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="claim_requests", verbose_name=_("客户")
    )
    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="+", verbose_name=_("公海"))
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("申请人")
    )
    reason = models.CharField(_("申请理由"), max_length=200, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("审批人"),
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.CharField(_("审批意见"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("领取申请")
        verbose_name_plural = _("领取申请")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "applicant"],
                condition=models.Q(status="pending"),
                name="claim_request_one_pending",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-created_at", "-id"], name="claim_request_status_idx"),
            models.Index(fields=["applicant", "-created_at"], name="claim_request_applicant_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.applicant} → {self.customer}"


# ---------------------------------------------------------------- Duplicate control and protection settings


def _default_duplicate_fields() -> list[str]:
    return ["name", "keyword"]


def _default_format_checks() -> list[str]:
    return ["phone", "fax", "mobile", "qq", "email", "postcode"]


class CustomerPolicy(models.Model):
    """The customer entry and protection policy (CUS-7, CUS-8, CUS-9); one row (pk=1)."""

    class DuplicateMode(models.TextChoices):
        OFF = "off", _("不查重")
        WARN = "warn", _("重名提示")
        FORBID = "forbid", _("重名禁止录入")

    duplicate_mode = models.CharField(
        _("查重策略"), max_length=10, choices=DuplicateMode, default=DuplicateMode.WARN
    )
    duplicate_fields = models.JSONField(_("参与查重的字段"), default=_default_duplicate_fields, blank=True)
    required_fields = models.JSONField(_("必填字段"), default=list, blank=True)
    format_checks = models.JSONField(_("格式校验字段"), default=_default_format_checks, blank=True)
    protect_max_count = models.PositiveIntegerField(
        _("每人最多保护客户数"), default=20, help_text=_("0 表示不限")
    )
    protect_max_days = models.PositiveIntegerField(_("保护期限（天）"), default=90)
    protect_remind_days = models.PositiveIntegerField(
        _("到期前提醒（天）"), default=3, help_text=_("0 表示不提醒")
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("客户录入与保护策略")
        verbose_name_plural = _("客户录入与保护策略")

    def __str__(self) -> str:
        return str(_("客户录入与保护策略"))

    @classmethod
    def load(cls) -> "CustomerPolicy":
        policy, _created = cls.objects.get_or_create(pk=1)
        return policy


class ProtectionReminder(models.Model):
    """Marks that the owner was reminded of one protection lapse, so the reminder goes out once."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    protected_until = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "protected_until"], name="protection_reminder_unique_lapse"
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} @ {self.protected_until:%Y-%m-%d}"


# ---------------------------------------------------------------- temporary delegation (ORG-4)


class Delegation(models.Model):
    """A salesperson on leave lets a colleague work chosen customers for a period (授权).

    It is active while starts_at <= now < ends_at and not revoked; it expires by itself, because
    every read checks the period (no job has to switch it off).
    """

    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="delegations_given",
        verbose_name=_("授权人"),
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="delegations_received",
        verbose_name=_("被授权人"),
    )
    customers = models.ManyToManyField(Customer, related_name="delegations", verbose_name=_("授权的客户"))
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    note = models.CharField(_("说明"), max_length=200, blank=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("创建人"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("临时授权")
        verbose_name_plural = _("临时授权")
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["to_user", "ends_at"], name="delegation_to_user_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="delegation_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_user} → {self.to_user}"

    @property
    def is_active(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and self.starts_at <= now < self.ends_at


# ---------------------------------------------------------------- recycle rules (POOL-4, CUS-13)


class RecycleRule(models.Model):
    """A recycle rule (回收策略, POOL-4): owned customers that meet its condition go back to a pool
    automatically (crm/customers/recycle.py, daily job). Protected customers are always exempt.

    NO_DEAL counts days since the last deal (a won opportunity or an approved contract, kept in
    `Customer.last_deal_at`), or since the customer was claimed or created if it never had one."""

    class Kind(models.TextChoices):
        NEVER_CONTACTED = "never_contacted", _("领取后从未跟进")
        NO_FOLLOWUP = "no_followup", _("长期未跟进")
        NO_DEAL = "no_deal", _("长期未成交")

    name = models.CharField(_("规则名称"), max_length=64)
    kind = models.CharField(_("回收条件"), max_length=20, choices=Kind, default=Kind.NO_FOLLOWUP)
    days = models.PositiveIntegerField(_("天数"), default=30)
    days_by_level = models.JSONField(
        _("按价值等级的天数"),
        default=dict,
        blank=True,
        help_text=_("{价值等级 id: 天数}：该等级的客户按这里的天数，其余客户按默认天数。"),
    )
    statuses = models.ManyToManyField(
        DictionaryItem, blank=True, related_name="+", verbose_name=_("适用客户状态")
    )
    value_levels = models.ManyToManyField(
        DictionaryItem, blank=True, related_name="+", verbose_name=_("适用价值等级")
    )
    departments = models.ManyToManyField(
        "accounts.Department", blank=True, related_name="+", verbose_name=_("适用部门")
    )
    exempt_statuses = models.ManyToManyField(
        DictionaryItem, blank=True, related_name="+", verbose_name=_("不回收的客户状态")
    )
    exempt_scheduled = models.BooleanField(_("不回收已约定下次联系的客户"), default=False)
    exempt_open_opportunities = models.BooleanField(_("不回收有进行中商机的客户"), default=False)
    warn_days_before = models.PositiveIntegerField(_("提前提醒（天）"), default=0)
    pool = models.ForeignKey(
        Pool,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("回收到公海"),
    )
    is_active = models.BooleanField(_("启用"), default=True)
    last_run_at = models.DateTimeField(_("上次执行时间"), null=True, blank=True)
    last_run_count = models.PositiveIntegerField(_("上次回收数"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("创建人"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("回收规则")
        verbose_name_plural = _("回收规则")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["name"], name="recycle_rule_unique_name"),
            models.CheckConstraint(condition=models.Q(days__gte=1), name="recycle_rule_days_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class RecycleWarning(models.Model):
    """Marks that the owner was warned that a rule will recycle a customer on a due date, so the
    warning goes out once (CUS-13); a new due date (after a follow-up) gets a new warning."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    rule = models.ForeignKey(RecycleRule, on_delete=models.CASCADE, related_name="+")
    due_date = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "rule", "due_date"], name="recycle_warning_unique_due"
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}/{self.rule_id} @ {self.due_date:%Y-%m-%d}"
