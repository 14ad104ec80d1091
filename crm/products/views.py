"""Product pages (PRD-1, PRD-2): thin views over crm.products.selectors and services."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from crm.access import policy
from crm.core.mixins import PermissionMixin, ServiceFormView, client_ip
from crm.customers.selectors import customers_visible
from crm.products import pricing, selectors, services
from crm.products.forms import (
    CategoryForm,
    PriceCheckForm,
    PricePolicyForm,
    ProductForm,
    ProductSupplierForm,
    RegistrationForm,
    SupplierForm,
)
from crm.products.models import PricePolicy

PAGE_SIZE = 20


def _errors(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def customer_picker(request):
    """Options for the customer pickers: customers the user may see whose name matches."""
    if not request.user.is_authenticated or not policy.can(request.user, "products.view"):
        raise Http404
    q = request.GET.get("q", "").strip()
    customers = customers_visible(request.user, include_pool=True)
    if q:
        customers = customers.filter(name__icontains=q)
    rows = customers.order_by("name", "pk").values("pk", "name")[:20]
    return JsonResponse([{"value": c["pk"], "text": c["name"]} for c in rows], safe=False)


class ProductListView(PermissionMixin, View):
    permission = "products.view"

    def get(self, request):
        categories = selectors.category_tree(request.user)
        category_id = request.GET.get("category", "")
        category = next((c for c in categories if str(c.pk) == category_id), None)
        products = selectors.products_search(
            request.user, q=request.GET.get("q", ""), category=category, active=request.GET.get("active", "")
        )
        page = Paginator(products, PAGE_SIZE).get_page(request.GET.get("page"))
        context = {
            "page": page,
            "categories": categories,
            "category": category,
            "q": request.GET.get("q", ""),
            "active": request.GET.get("active", ""),
            "can_create": policy.can(request.user, "products.create"),
        }
        return render(request, "products/list.html", context)


class ProductDetailView(PermissionMixin, View):
    permission = "products.view"

    def get(self, request, pk):
        product = selectors.product_get_for_user(user=request.user, product_id=pk)
        price_policies = list(product.price_policies.order_by("-is_active", "kind", "pk"))
        names = selectors.customer_names_visible(request.user, [p.customer_id for p in price_policies])
        for item in price_policies:
            item.customer_label = (
                names.get(item.customer_id, _("（无权查看的客户）")) if item.customer_id else ""
            )
        check_form = PriceCheckForm(request.GET or None, user=request.user)
        result = None
        if request.GET and check_form.is_valid():
            data = check_form.cleaned_data
            result = pricing.price_for(
                product,
                customer=data.get("customer"),
                quantity=data.get("quantity") or 1,
                payment_term=data.get("term") or None,
            )
        registrations = selectors.registrations_visible(request.user).filter(product=product)
        context = {
            "product": product,
            "policies": price_policies,
            "supplier_links": product.supplier_links.select_related("supplier").order_by("supplier__name"),
            "registrations": registrations[:50],
            "registration_count": registrations.count(),
            "check_form": check_form,
            "result": result,
            "rule_text": pricing.RULE_TEXT,
            "supplier_form": ProductSupplierForm(),
            "can_edit": policy.can(request.user, "products.edit"),
            "can_delete": policy.can(request.user, "products.delete"),
            "can_settings": policy.can(request.user, "products.settings"),
        }
        return render(request, "products/detail.html", context, status=400 if check_form.errors else 200)


class ProductFormView(ServiceFormView):
    template_name = "products/form.html"
    create_permission = "products.create"
    edit_permission = "products.edit"
    object_name = "product"

    def load(self, pk):
        return selectors.product_get_for_user(user=self.request.user, product_id=pk)

    def get_form(self):
        current = self.object.category if self.object is not None else None
        if self.request.method == "POST":
            return ProductForm(self.request.POST, current_category=current)
        if self.object is None:
            return ProductForm()
        p = self.object
        initial = {field: getattr(p, field) for field in services.PRODUCT_FIELDS}
        return ProductForm(initial=initial, current_category=current)

    def save(self, form):
        values = dict(form.cleaned_data)
        values["points"] = values.get("points") or 0
        if self.object is None:
            return services.product_create(actor=self.request.user, ip=client_ip(self.request), **values)
        return services.product_update(
            actor=self.request.user, product=self.object, ip=client_ip(self.request), **values
        )

    def success_message(self, saved) -> str:
        return _("产品「%(name)s」已保存。") % {"name": saved.name}

    def success_url(self, saved) -> str:
        return reverse("products:detail", args=[saved.pk])


class ProductActiveView(PermissionMixin, View):
    """上架 (products.edit) or 下架 (products.delete)."""

    permission = "products.view"

    def post(self, request, pk):
        product = selectors.product_get_for_user(user=request.user, product_id=pk)
        active = request.POST.get("active") == "1"
        if not policy.can(request.user, "products.edit" if active else "products.delete"):
            raise PermissionDenied
        services.product_set_active(actor=request.user, product=product, active=active, ip=client_ip(request))
        messages.success(request, _("产品已上架。") if active else _("产品已下架。"))
        return redirect("products:detail", pk=product.pk)


class ProductSupplierView(PermissionMixin, View):
    """Add a supplier to a product (POST supplier, supplier_code, purchase_price) or remove one."""

    permission = "products.edit"

    def post(self, request, pk):
        product = selectors.product_get_for_user(user=request.user, product_id=pk)
        if request.POST.get("remove"):
            supplier = selectors.supplier_get_for_user(user=request.user, supplier_id=request.POST["remove"])
            try:
                services.product_supplier_unlink(
                    actor=request.user, product=product, supplier=supplier, ip=client_ip(request)
                )
            except ValidationError as exc:
                messages.error(request, _errors(exc))
            else:
                messages.success(request, _("已移除供应商。"))
            return redirect("products:detail", pk=product.pk)
        form = ProductSupplierForm(request.POST)
        if not form.is_valid():
            messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
            return redirect("products:detail", pk=product.pk)
        try:
            services.product_supplier_link(
                actor=request.user, product=product, ip=client_ip(request), **form.cleaned_data
            )
        except ValidationError as exc:
            messages.error(request, _errors(exc))
        else:
            messages.success(request, _("供应商已保存。"))
        return redirect("products:detail", pk=product.pk)


class PricePolicyFormView(ServiceFormView):
    template_name = "products/policy_form.html"
    create_permission = "products.settings"
    edit_permission = "products.settings"
    object_name = "price_policy"

    def dispatch(self, request, *args, product_pk=None, pk=None, **kwargs):
        self.product_pk = product_pk
        return super().dispatch(request, *args, pk=pk, **kwargs)

    @property
    def product(self):
        if self.object is not None:
            return self.object.product
        return selectors.product_get_for_user(user=self.request.user, product_id=self.product_pk)

    def load(self, pk):
        found = selectors.policy_get_for_user(user=self.request.user, policy_id=pk)
        if found.product_id != self.product_pk:
            raise Http404
        return found

    def get_form(self):
        user = self.request.user
        if self.request.method == "POST":
            return PricePolicyForm(self.request.POST, user=user)
        if self.object is None:
            return PricePolicyForm(user=user, initial={"kind": self.request.GET.get("kind", "")})
        initial = {field: getattr(self.object, field) for field in services.POLICY_FIELDS}
        return PricePolicyForm(user=user, initial=initial)

    def extra_context(self, form) -> dict:
        return {"product": self.product, "rule_text": pricing.RULE_TEXT}

    def save(self, form):
        values = dict(form.cleaned_data)
        if self.object is None:
            return services.price_policy_create(
                actor=self.request.user, product=self.product, ip=client_ip(self.request), **values
            )
        return services.price_policy_update(
            actor=self.request.user, price_policy=self.object, ip=client_ip(self.request), **values
        )

    def success_message(self, saved) -> str:
        return _("价格策略已保存。")

    def success_url(self, saved) -> str:
        return reverse("products:detail", args=[saved.product_id])


class PricePolicyActiveView(PermissionMixin, View):
    permission = "products.settings"

    def post(self, request, pk):
        found: PricePolicy = selectors.policy_get_for_user(user=request.user, policy_id=pk)
        active = request.POST.get("active") == "1"
        services.price_policy_set_active(
            actor=request.user, price_policy=found, active=active, ip=client_ip(request)
        )
        messages.success(request, _("价格策略已启用。") if active else _("价格策略已停用。"))
        return redirect("products:detail", pk=found.product_id)


class RegistrationFormView(ServiceFormView):
    template_name = "products/registration_form.html"
    create_permission = "products.edit"
    edit_permission = "products.edit"
    object_name = "registration"

    def dispatch(self, request, *args, product_pk=None, pk=None, **kwargs):
        self.product_pk = product_pk
        return super().dispatch(request, *args, pk=pk, **kwargs)

    @property
    def product(self):
        if self.object is not None:
            return self.object.product
        return selectors.product_get_for_user(user=self.request.user, product_id=self.product_pk)

    def load(self, pk):
        found = selectors.registration_get_for_user(user=self.request.user, registration_id=pk)
        if found.product_id != self.product_pk:
            raise Http404
        return found

    def get_form(self):
        user = self.request.user
        if self.request.method == "POST":
            return RegistrationForm(self.request.POST, user=user)
        if self.object is None:
            return RegistrationForm(user=user, initial={"customer": self.request.GET.get("customer")})
        r = self.object
        fields = ("serial_number", "customer", "registered_on", "warranty_ends_on", "note")
        return RegistrationForm(user=user, initial={f: getattr(r, f) for f in fields})

    def extra_context(self, form) -> dict:
        return {"product": self.product}

    def save(self, form):
        values = dict(form.cleaned_data)
        if self.object is None:
            return services.registration_create(
                actor=self.request.user, product=self.product, ip=client_ip(self.request), **values
            )
        return services.registration_update(
            actor=self.request.user, registration=self.object, ip=client_ip(self.request), **values
        )

    def success_message(self, saved) -> str:
        return _("序列号「%(sn)s」已注册。") % {"sn": saved.serial_number}

    def success_url(self, saved) -> str:
        return reverse("products:detail", args=[saved.product_id])


class RegistrationDeleteView(PermissionMixin, View):
    permission = "products.delete"

    def post(self, request, pk):
        found = selectors.registration_get_for_user(user=request.user, registration_id=pk)
        services.registration_delete(actor=request.user, registration=found, ip=client_ip(request))
        messages.success(request, _("产品注册已删除。"))
        return redirect("products:detail", pk=found.product_id)


class CategoryListView(PermissionMixin, View):
    permission = "products.view"

    def get(self, request):
        context = {
            "categories": selectors.category_tree(request.user),
            "can_settings": policy.can(request.user, "products.settings"),
        }
        return render(request, "products/categories.html", context)


class CategoryFormView(ServiceFormView):
    template_name = "products/category_form.html"
    create_permission = "products.settings"
    edit_permission = "products.settings"
    object_name = "category"

    def load(self, pk):
        return selectors.category_get_for_user(user=self.request.user, category_id=pk)

    def get_form(self):
        if self.request.method == "POST":
            return CategoryForm(self.request.POST)
        if self.object is None:
            return CategoryForm(initial={"parent": self.request.GET.get("parent")})
        c = self.object
        return CategoryForm(initial={"name": c.name, "parent": c.parent_id, "sort_order": c.sort_order})

    def save(self, form):
        data = form.cleaned_data
        values = {
            "name": data["name"],
            "parent": data.get("parent"),
            "sort_order": data.get("sort_order") or 0,
        }
        if self.object is None:
            return services.category_create(actor=self.request.user, ip=client_ip(self.request), **values)
        return services.category_update(
            actor=self.request.user, category=self.object, ip=client_ip(self.request), **values
        )

    def success_message(self, saved) -> str:
        return _("产品分类「%(name)s」已保存。") % {"name": saved.name}

    def success_url(self, saved) -> str:
        return reverse("products:categories")


class CategoryActiveView(PermissionMixin, View):
    permission = "products.settings"

    def post(self, request, pk):
        category = selectors.category_get_for_user(user=request.user, category_id=pk)
        active = request.POST.get("active") == "1"
        try:
            services.category_set_active(
                actor=request.user, category=category, active=active, ip=client_ip(request)
            )
        except ValidationError as exc:
            messages.error(request, _errors(exc))
        else:
            messages.success(request, _("产品分类已启用。") if active else _("产品分类已停用。"))
        return redirect("products:categories")


class SupplierListView(PermissionMixin, View):
    permission = "products.view"

    def get(self, request):
        suppliers = selectors.suppliers_visible(request.user).annotate(product_count=Count("product_links"))
        q = request.GET.get("q", "").strip()
        if q:
            suppliers = suppliers.filter(name__icontains=q)
        page = Paginator(suppliers.order_by("-is_active", "name", "pk"), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        context = {"page": page, "q": q, "can_settings": policy.can(request.user, "products.settings")}
        return render(request, "products/suppliers.html", context)


class SupplierFormView(ServiceFormView):
    template_name = "products/supplier_form.html"
    create_permission = "products.settings"
    edit_permission = "products.settings"
    object_name = "supplier"

    def load(self, pk):
        return selectors.supplier_get_for_user(user=self.request.user, supplier_id=pk)

    def get_form(self):
        if self.request.method == "POST":
            return SupplierForm(self.request.POST)
        if self.object is None:
            return SupplierForm()
        return SupplierForm(initial={f: getattr(self.object, f) for f in services.SUPPLIER_FIELDS})

    def save(self, form):
        values = dict(form.cleaned_data)
        if self.object is None:
            return services.supplier_create(actor=self.request.user, ip=client_ip(self.request), **values)
        return services.supplier_update(
            actor=self.request.user, supplier=self.object, ip=client_ip(self.request), **values
        )

    def success_message(self, saved) -> str:
        return _("供应商「%(name)s」已保存。") % {"name": saved.name}

    def success_url(self, saved) -> str:
        return reverse("products:suppliers")


class SupplierActiveView(PermissionMixin, View):
    permission = "products.settings"

    def post(self, request, pk):
        supplier = selectors.supplier_get_for_user(user=request.user, supplier_id=pk)
        active = request.POST.get("active") == "1"
        services.supplier_set_active(
            actor=request.user, supplier=supplier, active=active, ip=client_ip(request)
        )
        messages.success(request, _("供应商已启用。") if active else _("供应商已停用。"))
        return redirect("products:suppliers")
