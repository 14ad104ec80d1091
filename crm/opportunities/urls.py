from django.urls import path

from crm.opportunities import stats_views, views

app_name = "opportunities"

urlpatterns = [
    path("", views.KanbanView.as_view(), name="kanban"),
    path("list/", views.OpportunityListView.as_view(), name="list"),
    path("stats/", stats_views.StatsView.as_view(), name="stats"),
    path("bulk/", views.OpportunityBulkView.as_view(), name="bulk"),
    path("new/", views.OpportunityFormView.as_view(), name="create"),
    path("settings/", views.StageSettingsView.as_view(), name="settings"),
    path("<int:pk>/", views.OpportunityDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.OpportunityFormView.as_view(), name="edit"),
    path("<int:pk>/stage/", views.StageMoveView.as_view(), name="stage"),
    path("<int:pk>/win/", views.WinView.as_view(), name="win"),
    path("<int:pk>/lose/", views.LoseView.as_view(), name="lose"),
    path("<int:pk>/reopen/", views.ReopenView.as_view(), name="reopen"),
    path("<int:pk>/followups/", views.OpportunityFollowUpCreateView.as_view(), name="followup_create"),
]
