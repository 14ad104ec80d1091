from django.conf import settings

from crm.core.navigation import navigation_for


def navigation(request):
    user = getattr(request, "user", None)
    context = {"site_name": settings.CRM_SITE_NAME}
    if user is not None and user.is_authenticated:
        context["navigation"] = navigation_for(user, request.path)
    return context
