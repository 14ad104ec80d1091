import datetime

from django.utils.translation import gettext as _
from rest_framework import serializers

# Dates a business record can sensibly carry. Outside them the time zone database answers with local
# mean time (e.g. +08:05:43 for Shanghai before 1901), which is not a valid RFC 3339 offset.
MIN_YEAR, MAX_YEAR = 1901, 2999


class StrictSerializer(serializers.Serializer):
    """Rejects fields it does not know, so a typo never silently does nothing."""

    def to_internal_value(self, data):
        if hasattr(data, "keys"):
            unknown = sorted(set(data.keys()) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: [_("未知字段。")] for name in unknown})
        values = super().to_internal_value(data)
        out_of_range = {
            name: [
                _("日期超出范围，请填写 %(min)d–%(max)d 年之间的日期。") % {"min": MIN_YEAR, "max": MAX_YEAR}
            ]
            for name, value in values.items()
            if isinstance(value, datetime.date) and not MIN_YEAR <= value.year <= MAX_YEAR
        }
        if out_of_range:
            raise serializers.ValidationError(out_of_range)
        return values
