"""The catalogue of fields a role's field permissions (ORG-8) can protect, per module.

A field is named "<module>.<field>" in `Role.field_permissions` (for example "customers.mobile");
custom fields (CUS-11) are "<module>.custom.<key>". Labels come from the models' verbose names,
so the role screen, the forms and the lists say the same thing.

Rules a role can give a field (a field a role does not list is editable):

- hidden (隐藏): never shown, offered as a column, filter, sort or search, nor accepted on input;
- readonly (只读): shown in full, never changed by this user;
- mask_list (列表脱敏): masked in lists, search results, exports and list API answers, shown in full
  on the detail page and the form;
- mask (全部脱敏): masked everywhere, the form included; a new value may still be entered (the
  masked input is left blank to keep the stored value).

Only phone-like fields and e-mail addresses are maskable. A field that identifies the record (the
customer's name, a contact's name) cannot be hidden.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

HIDDEN = "hidden"
READONLY = "readonly"
MASK_LIST = "mask_list"
MASK = "mask"
EDITABLE = "editable"

RULES = {
    EDITABLE: _("可编辑"),
    READONLY: _("只读"),
    HIDDEN: _("隐藏"),
    MASK_LIST: _("列表脱敏"),
    MASK: _("全部脱敏"),
}
# How a maskable value is masked (see field_policy.mask_value).
MOBILE = "mobile"
PHONE = "phone"
EMAIL = "email"


@dataclass(frozen=True)
class ProtectedField:
    module: str
    name: str  # the model field name, or "custom.<key>"
    label: str
    mask_kind: str | None = None  # mobile / phone / email when the value may be masked
    can_hide: bool = True

    @property
    def code(self) -> str:
        return f"{self.module}.{self.name}"

    @property
    def maskable(self) -> bool:
        return self.mask_kind is not None

    def rules(self) -> list[str]:
        """The rules a role may give this field, in the order the role screen offers them."""
        found = [EDITABLE, READONLY]
        if self.can_hide:
            found.append(HIDDEN)
        if self.maskable:
            found += [MASK_LIST, MASK]
        return found


# (field, mask kind, can be hidden) in the order of the forms.
_CUSTOMER_FIELDS = (
    ("kind", None, True),
    ("name", None, False),
    ("code", None, True),
    ("keyword", None, True),
    ("credit_code", None, True),
    ("status", None, True),
    ("category", None, True),
    ("value_level", None, True),
    ("stage", None, True),
    ("region", None, True),
    ("industry", None, True),
    ("source", None, True),
    ("address", None, True),
    ("postcode", None, True),
    ("phone", PHONE, True),
    ("fax", PHONE, True),
    ("mobile", MOBILE, True),
    ("qq", None, True),
    ("wechat", None, True),
    ("email", EMAIL, True),
    ("website", None, True),
    ("legal_representative", None, True),
    ("registered_capital", None, True),
    ("credit_limit", None, True),
    ("tags", None, True),
    ("next_contact_at", None, True),
    ("remark", None, True),
)
_CONTACT_FIELDS = (
    ("name", None, False),
    ("title", None, True),
    ("department", None, True),
    ("mobile", MOBILE, True),
    ("phone", PHONE, True),
    ("email", EMAIL, True),
    ("qq", None, True),
    ("wechat", None, True),
    ("birthday", None, True),
    ("hometown", None, True),
    ("remark", None, True),
)

MODULE_LABELS = {"customers": _("客户"), "contacts": _("联系人")}


def _models():
    from crm.customers.models import Contact, Customer

    return {"customers": Customer, "contacts": Contact}


def module_of_model(model) -> str | None:
    """The field-permission module of a model (for log rows about it), or None."""
    return next((module for module, m in _models().items() if m is model), None)


def _builtin(module: str) -> list[ProtectedField]:
    model = _models()[module]
    spec = _CUSTOMER_FIELDS if module == "customers" else _CONTACT_FIELDS
    return [
        ProtectedField(module, name, model._meta.get_field(name).verbose_name, kind, can_hide)
        for name, kind, can_hide in spec
    ]


def _custom(module: str) -> list[ProtectedField]:
    """Custom fields (CUS-11), when the customfields app is there. A custom field of the phone or
    e-mail type is maskable when the app tells its type (`field_mask_kinds`)."""
    try:
        from crm.customfields import selectors as custom_selectors
    except ImportError:
        return []
    choices = getattr(custom_selectors, "field_choices", None)
    if choices is None:
        return []
    try:
        found = list(choices(module))
    except Exception:  # noqa: BLE001 - a half-migrated custom field table must not break every page
        return []
    kinds: dict[str, str] = {}
    mask_kinds = getattr(custom_selectors, "field_mask_kinds", None)
    if mask_kinds is not None:
        try:
            kinds = dict(mask_kinds(module))
        except Exception:  # noqa: BLE001
            kinds = {}
    fields = []
    for name, label in found:
        name = str(name)
        if not name.startswith("custom."):
            name = f"custom.{name}"
        kind = kinds.get(name)
        fields.append(ProtectedField(module, name, label, kind if kind in (MOBILE, PHONE, EMAIL) else None))
    return fields


MODULES = ("customers", "contacts")


def catalogue(module: str, *, include_custom: bool = True) -> list[ProtectedField]:
    """The protectable fields of `module` ("customers" or "contacts"); [] for any other."""
    if module not in MODULES:
        return []
    return _builtin(module) + (_custom(module) if include_custom else [])


def catalogue_by_name(module: str) -> dict[str, ProtectedField]:
    return {field.name: field for field in catalogue(module)}


def all_fields() -> dict[str, ProtectedField]:
    """Every protectable field by its code ("customers.mobile")."""
    return {field.code: field for module in MODULES for field in catalogue(module)}
