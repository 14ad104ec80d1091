"""Forms of the product pages: format checks only; the services check the business rules."""

from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from crm.customers.selectors import customers_visible
from crm.products.models import PricePolicy, ProductCategory, Supplier

MONEY = {"max_digits": 14, "decimal_places": 2, "min_value": 0}


class CustomerPickerSelect(forms.Select):
    """A select that renders only the chosen customer; the options load as the user types
    (the same Tom Select picker as the user pickers), never every customer in the page."""

    queryset = None

    def optgroups(self, name, value, attrs=None):
        ids = [v for v in value if str(v).isdigit()]
        groups = [(None, [self.create_option(name, "", "", not ids, 0)], 0)]
        if self.queryset is not None and ids:
            for index, customer in enumerate(self.queryset.filter(pk__in=ids), start=1):
                groups.append(
                    (None, [self.create_option(name, customer.pk, customer.name, True, index)], index)
                )
        return groups


def customer_field(user, *, required: bool, label) -> forms.ModelChoiceField:
    queryset = customers_visible(user, include_pool=True) if user is not None else None
    field = forms.ModelChoiceField(
        queryset=queryset,
        required=required,
        label=label,
        widget=CustomerPickerSelect(attrs={"data-user-picker": reverse_lazy("products:customer_picker")}),
        error_messages={"invalid_choice": _("客户不存在或无权查看。")},
    )
    field.widget.queryset = queryset
    return field


def category_choices_field(required: bool = False, label=None) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=ProductCategory.objects.filter(is_active=True).order_by("path"),
        required=required,
        label=label or _("产品分类"),
    )


class ProductForm(forms.Form):
    code = forms.CharField(label=_("产品编码"), max_length=40)
    name = forms.CharField(label=_("产品名称"), max_length=200)
    category = forms.ModelChoiceField(
        queryset=ProductCategory.objects.none(), required=False, label=_("产品分类")
    )
    unit = forms.CharField(label=_("单位"), max_length=16, initial="个")
    list_price = forms.DecimalField(label=_("标准价格"), **MONEY)
    cost = forms.DecimalField(label=_("成本"), required=False, **MONEY)
    stock = forms.DecimalField(label=_("库存"), required=False, **MONEY)
    points = forms.IntegerField(label=_("单位积分"), required=False, min_value=0, max_value=1_000_000)
    grade = forms.CharField(label=_("产品等级"), max_length=32, required=False)
    description = forms.CharField(
        label=_("产品说明"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, current_category=None, **kwargs):
        super().__init__(*args, **kwargs)
        queryset = ProductCategory.objects.filter(is_active=True)
        if current_category is not None:
            queryset = ProductCategory.objects.filter(pk=current_category.pk) | queryset
        self.fields["category"].queryset = queryset.order_by("path")


class CategoryForm(forms.Form):
    name = forms.CharField(label=_("分类名称"), max_length=64)
    parent = forms.ModelChoiceField(
        queryset=ProductCategory.objects.filter(is_active=True).order_by("path"),
        required=False,
        label=_("上级分类"),
    )
    sort_order = forms.IntegerField(label=_("排序"), required=False, min_value=0, max_value=100000, initial=0)


class SupplierForm(forms.Form):
    name = forms.CharField(label=_("供应商名称"), max_length=200)
    contact = forms.CharField(label=_("联系人"), max_length=64, required=False)
    phone = forms.CharField(label=_("电话"), max_length=32, required=False)
    email = forms.EmailField(label=_("电子邮箱"), required=False)
    address = forms.CharField(label=_("地址"), max_length=255, required=False)


class ProductSupplierForm(forms.Form):
    supplier = forms.ModelChoiceField(queryset=Supplier.objects.filter(is_active=True), label=_("供应商"))
    supplier_code = forms.CharField(label=_("供应商产品编码"), max_length=64, required=False)
    purchase_price = forms.DecimalField(label=_("采购价"), required=False, **MONEY)


class PricePolicyForm(forms.Form):
    kind = forms.ChoiceField(label=_("策略类型"), choices=PricePolicy.Kind.choices)
    name = forms.CharField(label=_("策略名称"), max_length=64, required=False)
    min_quantity = forms.DecimalField(
        label=_("起订数量"), required=False, max_digits=14, decimal_places=2, min_value=0
    )
    payment_term = forms.ChoiceField(
        label=_("付款条件"), required=False, choices=[("", "---------"), *PricePolicy.PaymentTerm.choices]
    )
    starts_on = forms.DateField(
        label=_("开始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    ends_on = forms.DateField(
        label=_("结束日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    price = forms.DecimalField(label=_("特价"), required=False, **MONEY)
    discount_percent = forms.DecimalField(
        label=_("折扣（%）"),
        required=False,
        max_digits=5,
        decimal_places=2,
        min_value=0,
        max_value=100,
        help_text=_("在标准价格上减去的百分比，如 10 表示九折。特价和折扣只填一项。"),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"] = customer_field(user, required=False, label=_("客户"))
        self.order_fields(["kind", "name", "customer"])


class RegistrationForm(forms.Form):
    serial_number = forms.CharField(label=_("序列号"), max_length=64)
    registered_on = forms.DateField(label=_("注册日期"), widget=forms.DateInput(attrs={"type": "date"}))
    warranty_ends_on = forms.DateField(
        label=_("保修截止"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    note = forms.CharField(label=_("备注"), max_length=255, required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"] = customer_field(user, required=True, label=_("客户"))
        self.order_fields(["serial_number", "customer"])


class PriceCheckForm(forms.Form):
    """The 价格查询 box on the product page (GET)."""

    quantity = forms.DecimalField(
        label=_("数量"),
        required=False,
        max_digits=14,
        decimal_places=2,
        min_value=0,
        error_messages={"min_value": _("数量不能为负数。")},
    )
    term = forms.ChoiceField(
        label=_("付款条件"), required=False, choices=[("", "---------"), *PricePolicy.PaymentTerm.choices]
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"] = customer_field(user, required=False, label=_("客户"))
        self.order_fields(["customer", "quantity", "term"])
