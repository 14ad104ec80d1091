from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from crm.accounts.api import DepartmentViewSet, RoleViewSet, TokenLoginView, UserViewSet
from crm.activities.api import FollowUpTemplateViewSet, FollowUpViewSet
from crm.api.tokens_api import APITokenViewSet
from crm.api.views import OfflineSwaggerView, not_found
from crm.approvals.api import ApprovalFlowViewSet, ApprovalRequestViewSet, ApprovalTaskViewSet
from crm.contracts.api import ContractViewSet
from crm.contracts.order_api import OrderStepView
from crm.customers.api import ContactViewSet, CustomerViewSet, DictionaryItemViewSet
from crm.customers.pool_api import ClaimRequestViewSet, PoolViewSet, RecycleRuleViewSet
from crm.customfields.api import CustomFieldViewSet
from crm.exports.api import ExportJobViewSet
from crm.imports.api import ImportJobViewSet
from crm.invoices.api import InvoiceViewSet
from crm.leads.api import LeadViewSet
from crm.opportunities.api import OpportunityViewSet, StageGroupViewSet
from crm.points.api import PointsEntryViewSet
from crm.printing.api import EnvelopeTemplateViewSet
from crm.products.api import (
    PricePolicyViewSet,
    ProductCategoryViewSet,
    ProductRegistrationViewSet,
    ProductViewSet,
    SupplierViewSet,
)
from crm.quotes.api import QuoteViewSet
from crm.receivables.api import PaymentPlanViewSet, ReceivableViewSet
from crm.savedviews.api import SavedViewViewSet
from crm.webhooks.api import WebhookDeliveryViewSet, WebhookEndpointViewSet

router = DefaultRouter()
router.register("users", UserViewSet, basename="user")
router.register("departments", DepartmentViewSet, basename="department")
router.register("roles", RoleViewSet, basename="role")
router.register("customers", CustomerViewSet, basename="customer")
router.register("contacts", ContactViewSet, basename="contact")
router.register("leads", LeadViewSet, basename="lead")
router.register("opportunities", OpportunityViewSet, basename="opportunity")
router.register("stage-groups", StageGroupViewSet, basename="stage-group")
router.register("dictionaries", DictionaryItemViewSet, basename="dictionary")
router.register("custom-fields", CustomFieldViewSet, basename="custom-field")
router.register("saved-views", SavedViewViewSet, basename="saved-view")
router.register("followups", FollowUpViewSet, basename="followup")
router.register("followup-templates", FollowUpTemplateViewSet, basename="followup-template")
router.register("pool/applications", ClaimRequestViewSet, basename="pool-application")
router.register("pool/recycle-rules", RecycleRuleViewSet, basename="pool-recycle-rule")
router.register("pool", PoolViewSet, basename="pool")
router.register("approval-flows", ApprovalFlowViewSet, basename="approval-flow")
router.register("approval-tasks", ApprovalTaskViewSet, basename="approval-task")
router.register("approval-requests", ApprovalRequestViewSet, basename="approval-request")
router.register("products", ProductViewSet, basename="product")
router.register("product-categories", ProductCategoryViewSet, basename="product-category")
router.register("suppliers", SupplierViewSet, basename="supplier")
router.register("price-policies", PricePolicyViewSet, basename="price-policy")
router.register("product-registrations", ProductRegistrationViewSet, basename="product-registration")
router.register("quotes", QuoteViewSet, basename="quote")
router.register("contracts", ContractViewSet, basename="contract")
router.register("invoices", InvoiceViewSet, basename="invoice")
router.register("payment-plans", PaymentPlanViewSet, basename="payment-plan")
router.register("receivables", ReceivableViewSet, basename="receivable")
router.register("points", PointsEntryViewSet, basename="points")
router.register("webhooks", WebhookEndpointViewSet, basename="webhook")
router.register("webhook-deliveries", WebhookDeliveryViewSet, basename="webhook-delivery")
router.register("envelope-templates", EnvelopeTemplateViewSet, basename="envelope-template")
router.register("tokens", APITokenViewSet, basename="api-token")
router.register("exports", ExportJobViewSet, basename="export")
router.register("imports", ImportJobViewSet, basename="import")

urlpatterns = [
    path("v1/auth/token/", TokenLoginView.as_view(), name="api-token"),
    path("v1/contracts/<int:pk>/order/<str:action>/", OrderStepView.as_view(), name="contract-order-step"),
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", OfflineSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    # Anything else under /api/ answers JSON, not the HTML error page (clients parse the body).
    re_path(r"^.*$", not_found),
]
