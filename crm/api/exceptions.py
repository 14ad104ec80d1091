from django.core.exceptions import NON_FIELD_ERRORS, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler

from crm.access.policy import PermissionRequiredError


def exception_handler(exc, context):
    """Business-rule errors from services answer 400 with their (translated) message.

    A rule about the whole request answers {"detail": [message, ...]}; a model field error
    (from full_clean) answers {field: [message, ...]} like the serializers do.
    Not found answers one translated message, whatever the lookup was.
    """
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            errors = {
                ("detail" if field == NON_FIELD_ERRORS else field): messages
                for field, messages in exc.message_dict.items()
            }
            exc = exceptions.ValidationError(errors)
        else:
            exc = exceptions.ValidationError({"detail": exc.messages})
    elif isinstance(exc, Http404):
        # Django's "No User matches the given query." is English and names the model; a record
        # that is missing and one outside the caller's scope answer alike, in the user's language.
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionRequiredError):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, SuspiciousOperation):
        # Raised while parsing the body (too many form fields, too large): a JSON 400, not an HTML page.
        exc = exceptions.ParseError(_("请求数据无法处理：字段过多或内容过大，请改用 JSON 并减少数据量。"))
    return drf_exception_handler(exc, context)
