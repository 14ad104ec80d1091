from django.urls import path

from crm.receivables import views

app_name = "receivables"

urlpatterns = [
    path("", views.ReceivableListView.as_view(), name="list"),
    path("new/", views.ReceivableFormView.as_view(), name="create"),
    path("plans/", views.PlanListView.as_view(), name="plans"),
    path("plans/<int:pk>/edit/", views.PlanEditView.as_view(), name="plan_edit"),
    path("plans/<int:pk>/delete/", views.PlanDeleteView.as_view(), name="plan_delete"),
    path(
        "contracts/<int:contract_id>/section/", views.ContractSectionView.as_view(), name="contract_section"
    ),
    path("contracts/<int:contract_id>/plans/", views.PlanCreateView.as_view(), name="plan_create"),
    path("<int:pk>/", views.ReceivableDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.ReceivableFormView.as_view(), name="edit"),
    path("<int:pk>/action/", views.ReceivableActionView.as_view(), name="action"),
]
