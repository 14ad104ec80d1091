"""Duplicate control (查重, CUS-7) and entry policies (CUS-8).

`normalise_company_name` reduces a company name to the part that identifies the company:
full-width → half-width (NFKC), lower case, no punctuation or spaces, no leading province / city /
district, no parenthesised region, no legal-form suffix (有限公司, 股份有限公司, Co., Ltd. …)::

    深圳市中兴通讯股份有限公司   → 中兴通讯
    中兴通讯（深圳）有限公司     → 中兴通讯
    ＺＴＥ 中兴通讯 股份有限公司 → zte中兴通讯

The result is stored in Customer.name_key (indexed) so that a check is one indexed lookup.

`duplicates_check` applies the policy (CustomerPolicy): required fields and format checks raise a
ValidationError; duplicates raise under 重名禁止录入 and are returned as warnings under 重名提示.
A match shows only the other customer's name and its owner's name, never its other data, even when
the actor may not see that customer. A protected customer's name always warns.
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.db.models.lookups import In
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.access.policy import PermissionRequiredError
from crm.access.policy import can as policy_can
from crm.audit.services import diff, log_action
from crm.customers.models import Contact, Customer, CustomerPolicy

# ---------------------------------------------------------------- normalisation

PROVINCES = (
    "北京",
    "天津",
    "上海",
    "重庆",
    "河北",
    "山西",
    "辽宁",
    "吉林",
    "黑龙江",
    "江苏",
    "浙江",
    "安徽",
    "福建",
    "江西",
    "山东",
    "河南",
    "湖北",
    "湖南",
    "广东",
    "海南",
    "四川",
    "贵州",
    "云南",
    "陕西",
    "甘肃",
    "青海",
    "台湾",
    "内蒙古",
    "广西",
    "西藏",
    "宁夏",
    "新疆",
    "香港",
    "澳门",
)
PROVINCE_SUFFIXES = (
    "壮族自治区",
    "回族自治区",
    "维吾尔自治区",
    "特别行政区",
    "自治区",
    "省",
    "市",
    "",
)
# Prefecture-level and other major cities. Names that are also common words or brands (中山, 吉林
# as a city) are left out on purpose: stripping them would merge unrelated companies.
CITIES = (
    "石家庄",
    "唐山",
    "保定",
    "邯郸",
    "廊坊",
    "太原",
    "大同",
    "呼和浩特",
    "包头",
    "鄂尔多斯",
    "沈阳",
    "大连",
    "鞍山",
    "长春",
    "哈尔滨",
    "大庆",
    "南京",
    "无锡",
    "徐州",
    "常州",
    "苏州",
    "南通",
    "连云港",
    "淮安",
    "盐城",
    "扬州",
    "镇江",
    "泰州",
    "宿迁",
    "杭州",
    "宁波",
    "温州",
    "嘉兴",
    "湖州",
    "绍兴",
    "金华",
    "台州",
    "舟山",
    "丽水",
    "合肥",
    "芜湖",
    "蚌埠",
    "马鞍山",
    "安庆",
    "福州",
    "厦门",
    "泉州",
    "漳州",
    "莆田",
    "南昌",
    "赣州",
    "九江",
    "济南",
    "青岛",
    "淄博",
    "烟台",
    "潍坊",
    "济宁",
    "临沂",
    "威海",
    "郑州",
    "洛阳",
    "开封",
    "新乡",
    "南阳",
    "武汉",
    "宜昌",
    "襄阳",
    "长沙",
    "株洲",
    "湘潭",
    "岳阳",
    "衡阳",
    "广州",
    "深圳",
    "珠海",
    "汕头",
    "佛山",
    "韶关",
    "湛江",
    "江门",
    "茂名",
    "肇庆",
    "惠州",
    "梅州",
    "东莞",
    "清远",
    "揭阳",
    "南宁",
    "柳州",
    "桂林",
    "北海",
    "海口",
    "三亚",
    "成都",
    "绵阳",
    "德阳",
    "宜宾",
    "贵阳",
    "遵义",
    "昆明",
    "大理",
    "拉萨",
    "西安",
    "咸阳",
    "宝鸡",
    "兰州",
    "西宁",
    "银川",
    "乌鲁木齐",
    "克拉玛依",
)
CITY_SUFFIXES = ("市", "")
# Longest first so that 股份有限公司 wins over 有限公司.
LEGAL_SUFFIXES = tuple(
    sorted(
        (
            "集团股份有限公司",
            "集团有限责任公司",
            "集团有限公司",
            "股份有限公司",
            "有限责任公司",
            "股份合作公司",
            "有限公司",
            "股份公司",
            "集团公司",
            "总公司",
            "有限合伙",
            "合伙企业",
            "集团",
            "公司",
        ),
        key=len,
        reverse=True,
    )
)
ENGLISH_SUFFIX_RE = re.compile(
    r"(?:[\s,.]+|^)(?:co\s*\.?\s*,?\s*ltd|company\s+limited|corporation|limited|ltd|inc|corp|llc|gmbh"
    r"|group|co)\s*\.?\s*$"
)
PAREN_RE = re.compile(r"\(([^()]*)\)")
DISTRICT_RE = re.compile(r"^[\u4e00-\u9fff]{1,4}?(?:新区|区|县)")
MIN_KEY_LENGTH = 2


def _strip_punctuation(text: str) -> str:
    return "".join(ch for ch in text if unicodedata.category(ch)[0] not in "PSZC")


def _region_names(names: Iterable[str], suffixes: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({name + suffix for name in names for suffix in suffixes}, key=len, reverse=True))


PROVINCE_NAMES = _region_names(PROVINCES, PROVINCE_SUFFIXES)
CITY_NAMES = _region_names(CITIES, CITY_SUFFIXES)
REGION_NAMES = frozenset(PROVINCE_NAMES + CITY_NAMES + ("中国",))


def _strip_prefix(text: str, prefixes: tuple[str, ...]) -> str:
    for prefix in prefixes:
        if text.startswith(prefix) and len(text) - len(prefix) >= MIN_KEY_LENGTH:
            return text[len(prefix) :]
    return text


def _strip_suffix(text: str, suffixes: tuple[str, ...]) -> str:
    for suffix in suffixes:
        if text.endswith(suffix) and len(text) - len(suffix) >= MIN_KEY_LENGTH:
            return text[: -len(suffix)]
    return text


def _strip_legal_suffixes(text: str) -> str:
    while True:
        before = text
        if text.endswith("分公司") and len(text) > 3 + MIN_KEY_LENGTH:
            # 中兴通讯股份有限公司深圳分公司: drop the branch and the branch's place.
            text = text[:-3]
            text = _strip_suffix(text, CITY_NAMES)
            text = _strip_suffix(text, PROVINCE_NAMES)
        text = _strip_suffix(text, LEGAL_SUFFIXES)
        if text == before:
            return text


def _parenthesised(match: re.Match) -> str:
    inner = _strip_punctuation(match.group(1))
    if not inner or inner in REGION_NAMES or inner in LEGAL_SUFFIXES or DISTRICT_RE.fullmatch(inner):
        return ""
    return inner


def normalise_company_name(name: str) -> str:
    """The identifying part of a company name, for duplicate checks (see the module docstring)."""
    text = unicodedata.normalize("NFKC", name or "").lower().strip()
    text = text.replace("【", "(").replace("】", ")").replace("[", "(").replace("]", ")")
    while True:
        stripped = ENGLISH_SUFFIX_RE.sub("", text).strip()
        if stripped == text or len(_strip_punctuation(stripped)) < MIN_KEY_LENGTH:
            break
        text = stripped
    text = PAREN_RE.sub(_parenthesised, text)
    text = _strip_punctuation(text)
    plain = text
    text = _strip_legal_suffixes(text)
    had_region = False
    for prefixes in (PROVINCE_NAMES, CITY_NAMES):
        shorter = _strip_prefix(text, prefixes)
        had_region |= shorter != text
        text = shorter
    if had_region:
        match = DISTRICT_RE.match(text)
        if match and len(text) - match.end() >= MIN_KEY_LENGTH:
            text = text[match.end() :]
    text = _strip_legal_suffixes(text)
    return (text or plain)[:200]


# ---------------------------------------------------------------- entry policy: fields and formats

# Fields that may take part in duplicate checks, with their labels (the settings page lists them).
# 统一社会信用代码 is not among them: it is unique, and services refuse a second use outright.
DUPLICATE_FIELDS = {
    "name": gettext_lazy("客户名称"),
    "keyword": gettext_lazy("关键字"),
    "phone": gettext_lazy("电话"),
    "mobile": gettext_lazy("手机"),
    "fax": gettext_lazy("传真"),
    "email": gettext_lazy("邮箱"),
    "website": gettext_lazy("网址"),
    "qq": "QQ",
    "contact_name": gettext_lazy("联系人姓名"),
    "contact_mobile": gettext_lazy("联系人手机"),
}
# Fields an admin may make required on entry.
REQUIRED_FIELD_CHOICES = {
    "keyword": gettext_lazy("关键字"),
    "credit_code": gettext_lazy("统一社会信用代码"),
    "category": gettext_lazy("客户分类"),
    "value_level": gettext_lazy("价值等级"),
    "stage": gettext_lazy("跟进程度"),
    "region": gettext_lazy("地区"),
    "industry": gettext_lazy("行业"),
    "source": gettext_lazy("客户来源"),
    "address": gettext_lazy("地址"),
    "postcode": gettext_lazy("邮编"),
    "phone": gettext_lazy("电话"),
    "fax": gettext_lazy("传真"),
    "mobile": gettext_lazy("手机"),
    "qq": "QQ",
    "wechat": gettext_lazy("微信"),
    "email": gettext_lazy("邮箱"),
    "website": gettext_lazy("网址"),
    "legal_representative": gettext_lazy("法定代表人"),
    "registered_capital": gettext_lazy("注册资本（万元）"),
    "contact_name": gettext_lazy("联系人姓名"),
}
FORMATS = {
    "phone": (re.compile(r"^(?=(?:\D*\d){5})[0-9+\- ()]{5,32}$"), gettext_lazy("电话号码格式不正确。")),
    "fax": (re.compile(r"^(?=(?:\D*\d){5})[0-9+\- ()]{5,32}$"), gettext_lazy("传真号码格式不正确。")),
    "mobile": (re.compile(r"^(?:\+?86[- ]?)?1[3-9][0-9]{9}$"), gettext_lazy("手机号码应为 11 位数字。")),
    "qq": (re.compile(r"^[1-9][0-9]{4,11}$"), gettext_lazy("QQ 号应为 5–12 位数字。")),
    "email": (
        re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
        gettext_lazy("邮箱地址格式不正确。"),
    ),
    "postcode": (re.compile(r"^[0-9]{6}$"), gettext_lazy("邮编应为 6 位数字。")),
}


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def entry_policy_check(
    *, values: dict[str, Any], contacts: list[dict[str, Any]], policy: CustomerPolicy
) -> None:
    """Required fields and formats (CUS-8); raises ValidationError {field: message}."""
    errors: dict[str, str] = {}
    for field in policy.required_fields or ():
        if field not in REQUIRED_FIELD_CHOICES:
            continue
        if field == "contact_name":
            if not any(not _blank(c.get("name")) for c in contacts):
                errors["contacts"] = _("请至少填写一位联系人的姓名。")
        elif _blank(values.get(field)):
            errors[field] = _("请填写%(field)s。") % {"field": REQUIRED_FIELD_CHOICES[field]}
    for field in policy.format_checks or ():
        if field not in FORMATS or field in errors:
            continue
        value = values.get(field)
        if isinstance(value, str) and value.strip():
            pattern, message = FORMATS[field]
            if not pattern.match(unicodedata.normalize("NFKC", value.strip())):
                errors[field] = str(message)
    if errors:
        raise ValidationError(errors)


# ---------------------------------------------------------------- duplicates


@dataclass(frozen=True)
class DuplicateMatch:
    """What a user is told about a similar customer: its name and its owner, nothing else."""

    customer_id: int
    name: str
    owner_name: str
    field: str
    protected: bool

    @property
    def field_label(self) -> str:
        return str(DUPLICATE_FIELDS.get(self.field, self.field))

    def message(self) -> str:
        params = {"name": self.name, "owner": self.owner_name, "field": self.field_label}
        if self.protected:
            return _("“%(name)s”已被 %(owner)s 保护（相同的%(field)s）。") % params
        return _("相似客户“%(name)s”（负责人：%(owner)s，相同的%(field)s）。") % params


MAX_MATCHES = 10
MAX_KEYWORD_SOURCE = 60  # characters of a new name searched for other customers' keywords
MAX_KEYWORD_LENGTH = 16  # longer keywords are still matched by equality, not by containment


def _website_variants(url: str) -> list[str]:
    bare = re.sub(r"^[a-z]+://", "", url.strip().lower()).removeprefix("www.").rstrip("/")
    if not bare:
        return []
    hosts = (bare, f"www.{bare}")
    return [
        f"{scheme}{host}{slash}"
        for scheme in ("", "http://", "https://")
        for host in hosts
        for slash in ("", "/")
    ]


def _substrings(text: str) -> list[str]:
    """The text's substrings of 2..MAX_KEYWORD_LENGTH characters (at most ~900 for 60 characters)."""
    text = text[:MAX_KEYWORD_SOURCE]
    return sorted(
        {
            text[i:j]
            for i in range(len(text))
            for j in range(i + MIN_KEY_LENGTH, min(len(text), i + MAX_KEYWORD_LENGTH) + 1)
        }
    )


def _field_conditions(values: dict[str, Any], contacts: list[dict[str, Any]], fields: set[str]) -> list:
    """(field, Q over Customer) for each participating field that has a value."""
    conditions: list[tuple[str, Q]] = []
    name = str(values.get("name") or "").strip()
    if "name" in fields and name:
        conditions.append(("name", Q(name_key=normalise_company_name(name))))
    if "keyword" in fields:
        keyword = str(values.get("keyword") or "").strip()
        if keyword:
            # LOWER(keyword) IN (…), not iexact (UPPER on PostgreSQL, LIKE on SQLite): this form
            # uses the customer_keyword_lower_idx index on both databases.
            conditions.append(("keyword", Q(In(Lower("keyword"), [keyword.lower()]))))
        if name:
            # Another customer's 关键字 contained in the new name (case-insensitive; 1-character
            # keywords ignored): one IN over the name's substrings, hashed by the database.
            candidates = _substrings(unicodedata.normalize("NFKC", name).lower())
            conditions.append(("keyword", Q(In(Lower("keyword"), candidates))))
    for field in ("phone", "mobile", "fax", "qq"):
        value = str(values.get(field) or "").strip()
        if field in fields and value:
            conditions.append((field, Q(**{field: value})))
    email = str(values.get("email") or "").strip()
    if "email" in fields and email:
        conditions.append(("email", Q(email__iexact=email)))
    website = str(values.get("website") or "").strip()
    if "website" in fields and website:
        variants = _website_variants(website)
        if variants:
            conditions.append(("website", Q(website__in=variants)))
    for field, attr in (("contact_name", "name"), ("contact_mobile", "mobile")):
        wanted = {str(c.get(attr) or "").strip() for c in contacts} - {""}
        if field in fields and wanted:
            holders = Contact.objects.filter(**{f"{attr}__in": sorted(wanted)}).values("customer_id")
            conditions.append((field, Q(pk__in=holders)))
    return conditions


def duplicates_find(
    *,
    values: dict[str, Any],
    contacts: Iterable[dict[str, Any]] = (),
    exclude_pk: int | None = None,
    fields: Iterable[str] | None = None,
    policy: CustomerPolicy | None = None,
) -> tuple[list[DuplicateMatch], list[DuplicateMatch]]:
    """(matches on the policy's fields, matches of protected customers by name).

    Live customers only (the recycle bin does not count). At most MAX_MATCHES of each; a bounded
    number of queries whatever the table size (one per participating field, owners joined)."""
    policy = policy or CustomerPolicy.load()
    contacts = list(contacts)
    wanted = set(fields if fields is not None else policy.duplicate_fields or ())
    if fields is None and policy.duplicate_mode == CustomerPolicy.DuplicateMode.OFF:
        wanted = set()
    live = Customer.objects.filter(deleted_at__isnull=True).exclude(pk=exclude_pk).select_related("owner")
    live = live.only(
        "pk",
        "name",
        "protected_until",
        "owner__name",
        "owner__username",
        "owner__first_name",
        "owner__last_name",
    )
    matches: dict[int, DuplicateMatch] = {}
    for field, condition in _field_conditions(values, contacts, wanted):
        for customer in live.filter(condition).order_by("pk")[:MAX_MATCHES]:
            if customer.pk not in matches:
                matches[customer.pk] = _match(customer, field)
    protected: list[DuplicateMatch] = []
    name = str(values.get("name") or "").strip()
    if name:
        same_name = live.filter(name_key=normalise_company_name(name), protected_until__gt=timezone.now())
        protected = [_match(customer, "name") for customer in same_name.order_by("pk")[:MAX_MATCHES]]
    found = list(matches.values())[:MAX_MATCHES]
    return found, [m for m in protected if m.customer_id not in {f.customer_id for f in found}]


def _match(customer: Customer, field: str) -> DuplicateMatch:
    return DuplicateMatch(
        customer_id=customer.pk,
        name=customer.name,
        owner_name=customer.owner.display_name if customer.owner else str(_("公海")),
        field=field,
        protected=customer.is_protected,
    )


def duplicates_check(
    *,
    values: dict[str, Any],
    contacts: Iterable[dict[str, Any]] = (),
    exclude_pk: int | None = None,
    actor=None,
    previous: dict[str, Any] | None = None,
) -> list[str]:
    """Apply the entry policy to a customer about to be saved.

    Raises ValidationError for a missing required field, a bad format, or (重名禁止录入) a duplicate;
    returns the warning texts (重名提示, and a protected customer's name whatever the policy).
    `previous` (on update) holds the saved values: unchanged fields are not checked for duplicates,
    so an old duplicate does not block every later edit. `actor` is accepted for auditing callers;
    what a match shows never depends on it (only the name and the owner are shown)."""
    policy = CustomerPolicy.load()
    contacts = list(contacts)
    entry_policy_check(values=values, contacts=contacts, policy=policy)
    changed = dict(values)
    if previous is not None:
        changed = {k: v for k, v in values.items() if previous.get(k) != v}
        if "name" in changed and normalise_company_name(str(changed["name"] or "")) == normalise_company_name(
            str(previous.get("name") or "")
        ):
            changed.pop("name")
    if not changed and not contacts:
        return []
    found, protected = duplicates_find(
        values=changed, contacts=contacts, exclude_pk=exclude_pk, policy=policy
    )
    if found and policy.duplicate_mode == CustomerPolicy.DuplicateMode.FORBID:
        raise ValidationError(
            _("已存在相同的客户，不能重复录入：%(matches)s")
            % {"matches": " ".join(m.message() for m in found)},
            code="duplicate",
        )
    return [m.message() for m in protected + found]


def duplicates_guard(
    *,
    values: dict[str, Any],
    contacts: Iterable[dict[str, Any]] = (),
    exclude_pk: int | None = None,
    actor=None,
    previous: dict[str, Any] | None = None,
    allow_duplicates: bool = False,
) -> list[str]:
    """duplicates_check, and when it warns and the user has not confirmed, a ValidationError with
    code "duplicate_warning" (the form shows it and offers 仍要保存, resubmitting with
    allow_duplicates=True)."""
    warnings = duplicates_check(
        values=values, contacts=contacts, exclude_pk=exclude_pk, actor=actor, previous=previous
    )
    if warnings and not allow_duplicates:
        raise ValidationError(
            _("发现相似客户：%(matches)s 仍要保存吗？") % {"matches": " ".join(warnings)},
            code="duplicate_warning",
        )
    return warnings


# ---------------------------------------------------------------- the policy itself

POLICY_FIELDS = (
    "duplicate_mode",
    "duplicate_fields",
    "required_fields",
    "format_checks",
    "protect_max_count",
    "protect_max_days",
    "protect_remind_days",
)


@transaction.atomic
def customer_policy_update(*, actor, values: dict[str, Any], ip: str | None = None) -> CustomerPolicy:
    """Change the entry and protection policy (customers.settings); logged with a diff."""
    if not policy_can(actor, "customers.settings"):
        raise PermissionRequiredError("customers.settings")
    policy = CustomerPolicy.load()
    policy = CustomerPolicy.objects.select_for_update().get(pk=policy.pk)
    old = {field: getattr(policy, field) for field in POLICY_FIELDS}
    allowed = {
        "duplicate_fields": DUPLICATE_FIELDS,
        "required_fields": REQUIRED_FIELD_CHOICES,
        "format_checks": FORMATS,
    }
    errors: dict[str, str] = {}
    for field, value in values.items():
        if field not in POLICY_FIELDS:
            continue
        if field in allowed:
            value = [code for code in dict.fromkeys(value or ()) if code in allowed[field]]
        setattr(policy, field, value)
    if policy.protect_max_days < 1:
        errors["protect_max_days"] = _("保护期限至少为 1 天。")
    if policy.protect_remind_days >= policy.protect_max_days and policy.protect_remind_days:
        errors["protect_remind_days"] = _("提前提醒的天数应小于保护期限。")
    if errors:
        raise ValidationError(errors)
    policy.full_clean()
    policy.save()
    changes = diff(old, {field: getattr(policy, field) for field in POLICY_FIELDS})
    if changes:
        log_action(
            actor=actor, action="customer_policy.updated", target=policy, changes=changes, ip_address=ip
        )
    return policy
