from django.urls import path

from crm.customers import views

app_name = "customers"

urlpatterns = [
    path("", views.CustomerListView.as_view(), name="list"),
    path("filter-row/", views.FilterRowView.as_view(), name="filter_row"),
    path("bulk/", views.CustomerBulkView.as_view(), name="bulk"),
    path("group/", views.CustomerGroupView.as_view(), name="group"),
    path("bulk/value/", views.CustomerBulkValueView.as_view(), name="bulk_value"),
    path("new/", views.CustomerFormView.as_view(), name="create"),
    path("<int:pk>/", views.CustomerDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.CustomerFormView.as_view(), name="edit"),
    path("<int:pk>/delete/", views.CustomerDeleteView.as_view(), name="delete"),
    path("<int:pk>/access/", views.CustomerAccessAddView.as_view(), name="access_add"),
    path(
        "<int:pk>/access/<int:access_id>/remove/",
        views.CustomerAccessRemoveView.as_view(),
        name="access_remove",
    ),
    path("<int:customer_id>/contacts/new/", views.ContactFormView.as_view(), name="contact_create"),
    path("<int:customer_id>/contacts/<int:pk>/edit/", views.ContactFormView.as_view(), name="contact_edit"),
    path(
        "<int:customer_id>/contacts/<int:pk>/primary/",
        views.ContactPrimaryView.as_view(),
        name="contact_primary",
    ),
    path(
        "<int:customer_id>/contacts/<int:pk>/delete/",
        views.ContactDeleteView.as_view(),
        name="contact_delete",
    ),
    path("recycle-bin/", views.RecycleBinView.as_view(), name="recycle_bin"),
    path("recycle-bin/restore/", views.RecycleBinRestoreView.as_view(), name="recycle_bin_restore"),
    path("recycle-bin/purge/", views.RecycleBinPurgeView.as_view(), name="recycle_bin_purge"),
    path("settings/dictionaries/", views.DictionaryListView.as_view(), name="dictionaries"),
    path("settings/dictionaries/new/", views.DictionaryItemFormView.as_view(), name="dictionary_create"),
    path(
        "settings/dictionaries/<int:pk>/edit/", views.DictionaryItemFormView.as_view(), name="dictionary_edit"
    ),
    path(
        "settings/dictionaries/<int:pk>/active/",
        views.DictionaryItemActiveView.as_view(),
        name="dictionary_active",
    ),
    path("settings/numbering/", views.NumberingRuleView.as_view(), name="numbering"),
]
