from django.urls import path

from crm.api import web_views

app_name = "apitokens"

urlpatterns = [
    path("", web_views.tokens, name="list"),
    path("<int:pk>/revoke/", web_views.token_revoke, name="revoke"),
]
