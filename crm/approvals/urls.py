from django.urls import path

from crm.approvals import views

app_name = "approvals"

urlpatterns = [
    path("", views.my_approvals, name="mine"),
    path("flows/", views.flow_list, name="flows"),
    path("flows/new/", views.FlowFormView.as_view(), name="flow_create"),
    path("flows/<int:pk>/", views.FlowFormView.as_view(), name="flow_edit"),
    path("flows/<int:pk>/toggle/", views.flow_toggle, name="flow_toggle"),
    path("requests/<int:pk>/", views.request_detail, name="request_detail"),
    path("requests/<int:pk>/withdraw/", views.request_withdraw, name="request_withdraw"),
    path("requests/<int:pk>/resubmit/", views.request_resubmit, name="request_resubmit"),
    path("tasks/<int:pk>/approve/", views.task_approve, name="task_approve"),
    path("tasks/<int:pk>/reject/", views.task_reject, name="task_reject"),
]
