from django.urls import path

from crm.products import views

app_name = "products"

urlpatterns = [
    path("", views.ProductListView.as_view(), name="list"),
    path("new/", views.ProductFormView.as_view(), name="create"),
    path("<int:pk>/", views.ProductDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.ProductFormView.as_view(), name="edit"),
    path("<int:pk>/active/", views.ProductActiveView.as_view(), name="set_active"),
    path("<int:pk>/suppliers/", views.ProductSupplierView.as_view(), name="suppliers_of"),
    path("<int:product_pk>/policies/new/", views.PricePolicyFormView.as_view(), name="policy_create"),
    path("<int:product_pk>/policies/<int:pk>/edit/", views.PricePolicyFormView.as_view(), name="policy_edit"),
    path("policies/<int:pk>/active/", views.PricePolicyActiveView.as_view(), name="policy_set_active"),
    path(
        "<int:product_pk>/registrations/new/",
        views.RegistrationFormView.as_view(),
        name="registration_create",
    ),
    path(
        "<int:product_pk>/registrations/<int:pk>/edit/",
        views.RegistrationFormView.as_view(),
        name="registration_edit",
    ),
    path(
        "registrations/<int:pk>/delete/", views.RegistrationDeleteView.as_view(), name="registration_delete"
    ),
    path("categories/", views.CategoryListView.as_view(), name="categories"),
    path("categories/new/", views.CategoryFormView.as_view(), name="category_create"),
    path("categories/<int:pk>/edit/", views.CategoryFormView.as_view(), name="category_edit"),
    path("categories/<int:pk>/active/", views.CategoryActiveView.as_view(), name="category_set_active"),
    path("suppliers/", views.SupplierListView.as_view(), name="suppliers"),
    path("suppliers/new/", views.SupplierFormView.as_view(), name="supplier_create"),
    path("suppliers/<int:pk>/edit/", views.SupplierFormView.as_view(), name="supplier_edit"),
    path("suppliers/<int:pk>/active/", views.SupplierActiveView.as_view(), name="supplier_set_active"),
    path("customers/pick/", views.customer_picker, name="customer_picker"),
]
