from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from crm.accounts.views import LoginView
from crm.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("search/", core_views.search, name="search"),
    path("healthz", core_views.healthz, name="healthz"),
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("account/profile/tokens/", include("crm.api.web_urls")),
    path("", include("crm.accounts.urls")),
    path("messages/", include("crm.messaging.urls")),
    path("audit/", include("crm.audit.urls")),
    path("customers/duplicates/", include("crm.customers.dup_urls")),
    path("customers/protection/", include("crm.customers.protection_urls")),
    path("customers/delegations/", include("crm.customers.delegation_urls")),
    path(
        "customers/settings/custom-fields/",
        include(("crm.customfields.urls", "customfields"), namespace="customer_fields"),
        {"target": "customers"},
    ),
    path("saved-views/", include("crm.savedviews.urls")),
    path("customers/", include("crm.customers.urls")),
    path("activities/", include("crm.activities.urls")),
    path("leads/", include("crm.leads.urls")),
    path("opportunities/", include("crm.opportunities.urls")),
    path("pool/", include("crm.customers.pool_urls")),
    path("products/", include("crm.products.urls")),
    path("quotes/", include("crm.quotes.urls")),
    path("contracts/", include("crm.contracts.urls")),
    path("receivables/", include("crm.receivables.urls")),
    path("invoices/", include("crm.invoices.urls")),
    path("points/", include("crm.points.urls")),
    path("approvals/", include("crm.approvals.urls")),
    path("exports/", include("crm.exports.urls")),
    path("imports/", include("crm.imports.urls")),
    path("print/", include("crm.printing.urls")),
    path("webhooks/", include("crm.webhooks.urls")),
    path("api/", include("crm.api.urls")),
]

handler403 = "crm.core.views.error_403"
handler404 = "crm.core.views.error_404"
handler500 = "crm.core.views.error_500"
