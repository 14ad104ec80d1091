"""Request/response shapes of the customer API's tools: protection (CUS-9), the duplicate check
(CUS-7) and merging two duplicates. The actions live on CustomerViewSet (crm/customers/api.py)."""

from rest_framework import serializers

from crm.api.serializers import StrictSerializer
from crm.customers import merge


class ProtectSerializer(StrictSerializer):
    days = serializers.IntegerField(
        min_value=1, max_value=3650, help_text="protect for this many days from now"
    )


class ProtectionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    protected_until = serializers.DateTimeField(allow_null=True)
    owner_id = serializers.IntegerField(allow_null=True, help_text="null: cancelling sent it to the pool")
    pool_id = serializers.IntegerField(allow_null=True)


class DuplicateQuerySerializer(StrictSerializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    keyword = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    mobile = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    email = serializers.CharField(max_length=254, required=False, allow_blank=True, default="")
    website = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class DuplicateMatchSerializer(serializers.Serializer):
    """A similar customer as any user may be told of it: its name and owner, nothing else."""

    name = serializers.CharField()
    owner_name = serializers.CharField()
    field = serializers.CharField(help_text="the field that matched")
    field_label = serializers.CharField()
    protected = serializers.BooleanField()
    message = serializers.CharField()


class MergeSerializer(StrictSerializer):
    target_id = serializers.IntegerField(help_text="the customer that stays")
    source_id = serializers.IntegerField(help_text="the duplicate merged into it and removed")
    take_from_source = serializers.ListField(
        child=serializers.ChoiceField(choices=merge.MERGE_FIELDS),
        required=False,
        default=list,
        max_length=len(merge.MERGE_FIELDS),
        help_text="fields whose value is taken from the source customer",
    )


def match_data(match) -> dict:
    return {
        "name": match.name,
        "owner_name": match.owner_name,
        "field": match.field,
        "field_label": match.field_label,
        "protected": match.protected,
        "message": match.message(),
    }
