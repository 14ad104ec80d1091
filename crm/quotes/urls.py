from django.urls import path

from crm.quotes import views

app_name = "quotes"

urlpatterns = [
    path("", views.QuoteListView.as_view(), name="list"),
    path("new/", views.QuoteFormView.as_view(), name="create"),
    path("line-row/", views.QuoteLineRowView.as_view(), name="line_row"),
    path("contact-options/", views.ContactOptionsView.as_view(), name="contact_options"),
    path("opportunity-options/", views.OpportunityOptionsView.as_view(), name="opportunity_options"),
    path("discount-limits/", views.DiscountLimitView.as_view(), name="discount_limits"),
    path("price-history/", views.PriceHistoryView.as_view(), name="price_history"),
    path("<int:pk>/", views.QuoteDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.QuoteFormView.as_view(), name="edit"),
    path("<int:pk>/action/", views.QuoteActionView.as_view(), name="action"),
    path("<int:pk>/print/", views.QuotePrintView.as_view(), name="print"),
]
