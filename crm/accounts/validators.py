from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class LetterAndDigitValidator:
    """Password rule: at least one letter and one digit."""

    def validate(self, password, user=None):
        if not (any(c.isalpha() for c in password) and any(c.isdigit() for c in password)):
            raise ValidationError(_("密码须同时包含字母和数字。"), code="password_letters_digits")

    def get_help_text(self):
        return _("密码须同时包含字母和数字。")
