"""Products (PRD-1): a category tree, products, suppliers, price policies and registrations (PRD-2)."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class ProductCategory(models.Model):
    """A node of the product category tree; `path` is "/<root id>/…/<own id>/" like departments."""

    name = models.CharField(_("分类名称"), max_length=64)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("上级分类"),
    )
    path = models.CharField(max_length=255, blank=True, db_index=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("产品分类")
        verbose_name_plural = _("产品分类")
        ordering = ["path", "sort_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="product_category_unique_name"),
            models.UniqueConstraint(
                fields=["name"], condition=models.Q(parent__isnull=True), name="product_category_unique_root"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def depth(self) -> int:
        return max(self.path.count("/") - 2, 0)


class Product(models.Model):
    code = models.CharField(_("产品编码"), max_length=40, unique=True)
    name = models.CharField(_("产品名称"), max_length=200)
    category = models.ForeignKey(
        ProductCategory,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="products",
        verbose_name=_("产品分类"),
    )
    unit = models.CharField(_("单位"), max_length=16, default="个")
    list_price = models.DecimalField(_("标准价格"), max_digits=14, decimal_places=2, default=0)
    cost = models.DecimalField(_("成本"), max_digits=14, decimal_places=2, default=0)
    stock = models.DecimalField(_("库存"), max_digits=14, decimal_places=2, default=0)
    points = models.PositiveIntegerField(_("单位积分"), default=0)
    grade = models.CharField(_("产品等级"), max_length=32, blank=True)
    is_active = models.BooleanField(_("上架"), default=True)
    description = models.TextField(_("产品说明"), blank=True)
    suppliers = models.ManyToManyField(
        "Supplier", through="ProductSupplier", related_name="products", blank=True, verbose_name=_("供应商")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("产品")
        verbose_name_plural = _("产品")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(list_price__gte=0), name="product_list_price_not_negative"
            ),
            models.CheckConstraint(condition=models.Q(cost__gte=0), name="product_cost_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class Supplier(models.Model):
    name = models.CharField(_("供应商名称"), max_length=200, unique=True)
    contact = models.CharField(_("联系人"), max_length=64, blank=True)
    phone = models.CharField(_("电话"), max_length=32, blank=True)
    email = models.EmailField(_("电子邮箱"), blank=True)
    address = models.CharField(_("地址"), max_length=255, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("供应商")
        verbose_name_plural = _("供应商")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ProductSupplier(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="supplier_links")
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="product_links")
    supplier_code = models.CharField(_("供应商产品编码"), max_length=64, blank=True)
    purchase_price = models.DecimalField(_("采购价"), max_digits=14, decimal_places=2, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("产品供应商")
        verbose_name_plural = _("产品供应商")
        constraints = [
            models.UniqueConstraint(fields=["product", "supplier"], name="product_supplier_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.product} ← {self.supplier}"


class PricePolicy(models.Model):
    """One special price: for a customer, from a quantity, for a payment term or for a season.

    It gives either a fixed unit price or a discount percent off the list price. Which policy wins
    is decided in crm/products/pricing.py (the lowest applicable price)."""

    class Kind(models.TextChoices):
        CUSTOMER = "customer", _("客户专属价")
        QUANTITY = "quantity", _("数量阶梯价")
        PAYMENT_TERM = "payment_term", _("付款条件价")
        SEASONAL = "seasonal", _("季节促销")

    class PaymentTerm(models.TextChoices):
        PREPAID = "prepaid", _("预付")
        ON_DELIVERY = "on_delivery", _("货到付款")
        NET30 = "net30", _("月结30天")
        NET60 = "net60", _("月结60天")

    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="price_policies", verbose_name=_("产品")
    )
    kind = models.CharField(_("策略类型"), max_length=16, choices=Kind)
    name = models.CharField(_("策略名称"), max_length=64, blank=True)
    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("客户"),
    )
    min_quantity = models.DecimalField(_("起订数量"), max_digits=14, decimal_places=2, null=True, blank=True)
    payment_term = models.CharField(_("付款条件"), max_length=16, choices=PaymentTerm, blank=True)
    starts_on = models.DateField(_("开始日期"), null=True, blank=True)
    ends_on = models.DateField(_("结束日期"), null=True, blank=True)
    price = models.DecimalField(_("特价"), max_digits=14, decimal_places=2, null=True, blank=True)
    discount_percent = models.DecimalField(
        _("折扣（%）"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("在标准价格上减去的百分比，如 10 表示九折。"),
    )
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("价格策略")
        verbose_name_plural = _("价格策略")
        ordering = ["product", "kind", "id"]
        indexes = [models.Index(fields=["product", "is_active"], name="price_policy_product_active")]

    def __str__(self) -> str:
        return self.name or self.get_kind_display()


class ProductRegistration(models.Model):
    """A serial number of a product registered to a customer (商品注册, PRD-2)."""

    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="registrations", verbose_name=_("产品")
    )
    serial_number = models.CharField(_("序列号"), max_length=64)
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="product_registrations",
        verbose_name=_("客户"),
    )
    registered_on = models.DateField(_("注册日期"))
    warranty_ends_on = models.DateField(_("保修截止"), null=True, blank=True)
    note = models.CharField(_("备注"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("产品注册")
        verbose_name_plural = _("产品注册")
        ordering = ["-registered_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "serial_number"], name="product_registration_unique_sn"
            ),
        ]
        indexes = [models.Index(fields=["customer", "registered_on"], name="product_reg_customer")]

    def __str__(self) -> str:
        return f"{self.product.name} {self.serial_number}"
