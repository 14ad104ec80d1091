"""REST endpoints for follow-ups, their comments and follow-up templates.

Same services and access policy as the pages: a follow-up on a customer the caller may not see
answers 404 like a missing one; writes go through `crm.activities.services` (validated, atomic,
logged). Permissions: activities.view/create/edit/delete by HTTP method; comments need
activities.view to read, and the comment rule of `services.can_comment` to write.
"""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from crm.activities import selectors, services
from crm.activities.models import FollowUp, FollowUpTemplate
from crm.api.ordering import OrderingParamMixin
from crm.api.serializers import StrictSerializer
from crm.core.mixins import client_ip
from crm.customers.models import Contact, DictionaryItem

MAX_DB_INT = 2**31 - 1
ERROR_RESPONSE = inline_serializer("FollowUpErrorResponse", {"detail": serializers.CharField()})


# ---------------------------------------------------------------- output


class FollowUpAttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    original_name = serializers.CharField(read_only=True)
    size = serializers.IntegerField(read_only=True)
    content_type = serializers.CharField(read_only=True)
    url = serializers.SerializerMethodField()

    def get_url(self, obj) -> str:
        from django.urls import reverse

        return reverse("activities:attachment", args=[obj.pk])


class FollowUpCommentSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    author = serializers.IntegerField(source="author_id", read_only=True)
    author_name = serializers.CharField(source="author.display_name", read_only=True)
    content = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class FollowUpSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    contact_name = serializers.CharField(source="contact.name", read_only=True, default=None, allow_null=True)
    author_name = serializers.CharField(source="author.display_name", read_only=True)
    type_name = serializers.CharField(source="type.name", read_only=True)
    attachments = FollowUpAttachmentSerializer(many=True, read_only=True)
    comments_count = serializers.SerializerMethodField()

    class Meta:
        model = FollowUp
        fields = [
            "id",
            "customer",
            "customer_name",
            "contact",
            "contact_name",
            "author",
            "author_name",
            "type",
            "type_name",
            "content",
            "followed_at",
            "next_contact_at",
            "next_action",
            "attachments",
            "comments_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_comments_count(self, obj) -> int:
        return len(obj.comments.all())


# ---------------------------------------------------------------- input


class FollowUpUpdateSerializer(StrictSerializer):
    type = serializers.IntegerField(
        min_value=1, max_value=MAX_DB_INT, help_text="a followup_type dictionary id"
    )
    contact = serializers.IntegerField(min_value=1, max_value=MAX_DB_INT, required=False, allow_null=True)
    content = serializers.CharField(
        allow_blank=True, trim_whitespace=False, help_text="at most 5,000 characters"
    )
    followed_at = serializers.DateTimeField(required=False, help_text="defaults to now; not in the future")
    next_contact_at = serializers.DateTimeField(required=False, allow_null=True, help_text="in the future")
    next_action = serializers.ChoiceField(
        choices=FollowUp.NextAction.choices, required=False, allow_blank=True
    )

    def validate_type(self, value):
        item = DictionaryItem.objects.filter(pk=value).first()
        if item is None:
            raise serializers.ValidationError(_("跟进方式不存在。"))
        return item

    def validate_contact(self, value):
        if value is None:
            return None
        contact = Contact.objects.filter(pk=value).first()
        if contact is None:
            raise serializers.ValidationError(_("联系人不存在。"))
        return contact


class FollowUpCreateSerializer(FollowUpUpdateSerializer):
    customer = serializers.IntegerField(min_value=1, max_value=MAX_DB_INT)


class CommentCreateSerializer(StrictSerializer):
    content = serializers.CharField(allow_blank=True, help_text="at most 2,000 characters")


class FollowUpTemplateSerializer(serializers.ModelSerializer):
    type_name = serializers.CharField(source="type.name", read_only=True, default=None, allow_null=True)
    owner_name = serializers.CharField(source="owner.display_name", read_only=True)

    class Meta:
        model = FollowUpTemplate
        fields = [
            "id",
            "title",
            "content",
            "type",
            "type_name",
            "owner",
            "owner_name",
            "is_shared",
            "updated_at",
        ]
        read_only_fields = fields


class FollowUpTemplateWriteSerializer(StrictSerializer):
    title = serializers.CharField(max_length=100)
    content = serializers.CharField(allow_blank=True)
    type = serializers.IntegerField(min_value=1, max_value=MAX_DB_INT, required=False, allow_null=True)
    is_shared = serializers.BooleanField(required=False, default=False)

    def validate_type(self, value):
        if value is None:
            return None
        item = DictionaryItem.objects.filter(pk=value).first()
        if item is None:
            raise serializers.ValidationError(_("跟进方式不存在。"))
        return item


# ---------------------------------------------------------------- views


@extend_schema(tags=["followups"])
class FollowUpViewSet(OrderingParamMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Follow-up records (跟进记录) on the customers the caller may see, newest first."""

    module = "activities"
    serializer_class = FollowUpSerializer
    ordering = ("-created_at", "-id")
    ordering_fields = ("created_at", "followed_at")  # ?ordering=
    action_permissions = {"comments": "activities.view"}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return FollowUp.objects.none()
        return selectors.with_rows(selectors.followups_visible(self.request.user))

    def _fresh(self, followup):
        return selectors.followup_detail(user=self.request.user, followup_id=followup.pk)

    @extend_schema(
        parameters=[
            OpenApiParameter("customer", OpenApiTypes.INT, description="only this customer's follow-ups")
        ]
    )
    def list(self, request):
        followups = self.get_queryset()
        customer = request.query_params.get("customer", "")
        if customer:
            if not customer.isdigit() or int(customer) > MAX_DB_INT:
                raise exceptions.ValidationError({"customer": [_("客户编号无效。")]})
            followups = followups.filter(customer_id=int(customer))
        page = self.paginate_queryset(followups)
        return self.get_paginated_response(FollowUpSerializer(page, many=True).data)

    @extend_schema(request=FollowUpCreateSerializer, responses={201: FollowUpSerializer, 400: ERROR_RESPONSE})
    def create(self, request):
        data = FollowUpCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        followup = services.followup_create(
            actor=request.user,
            customer_id=values.pop("customer"),
            type=values.pop("type"),
            content=values.pop("content"),
            ip=client_ip(request),
            **values,
        )
        return Response(FollowUpSerializer(self._fresh(followup)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=FollowUpUpdateSerializer, responses={200: FollowUpSerializer, 400: ERROR_RESPONSE})
    def partial_update(self, request, pk=None):
        followup = selectors.followup_get_for_user(user=request.user, followup_id=pk)
        data = FollowUpUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        current = {
            "type": followup.type,
            "contact": followup.contact,
            "content": followup.content,
            "followed_at": followup.followed_at,
            "next_contact_at": followup.next_contact_at,
            "next_action": followup.next_action,
        }
        followup = services.followup_update(
            actor=request.user, followup=followup, ip=client_ip(request), **(current | data.validated_data)
        )
        return Response(FollowUpSerializer(self._fresh(followup)).data)

    @extend_schema(responses={204: None, 400: ERROR_RESPONSE})
    def destroy(self, request, pk=None):
        followup = selectors.followup_get_for_user(user=request.user, followup_id=pk)
        services.followup_delete(actor=request.user, followup=followup, ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(methods=["GET"], request=None, responses={200: FollowUpCommentSerializer(many=True)})
    @extend_schema(
        methods=["POST"],
        request=CommentCreateSerializer,
        responses={201: FollowUpCommentSerializer, 400: ERROR_RESPONSE},
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def comments(self, request, pk=None):
        """A follow-up's comments (点评), oldest first; POST adds one and notifies the author."""
        followup = selectors.followup_get_for_user(user=request.user, followup_id=pk)
        if request.method == "POST":
            data = CommentCreateSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            comment = services.comment_create(
                actor=request.user,
                followup=followup,
                content=data.validated_data["content"],
                ip=client_ip(request),
            )
            return Response(FollowUpCommentSerializer(comment).data, status=status.HTTP_201_CREATED)
        comments = followup.comments.select_related("author").order_by("created_at", "pk")[:500]
        return Response(FollowUpCommentSerializer(comments, many=True).data)


@extend_schema(tags=["followups"])
class FollowUpTemplateViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Follow-up templates (跟进模板): the caller's own and the shared ones. Only the creator or an
    administrator changes or deletes one."""

    module = "activities"
    serializer_class = FollowUpTemplateSerializer
    ordering = ("title", "id")
    action_permissions = {"partial_update": "activities.view", "destroy": "activities.view"}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return FollowUpTemplate.objects.none()
        return selectors.templates_visible(self.request.user)

    @extend_schema(
        request=FollowUpTemplateWriteSerializer,
        responses={201: FollowUpTemplateSerializer, 400: ERROR_RESPONSE},
    )
    def create(self, request):
        data = FollowUpTemplateWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        template = services.template_create(actor=request.user, ip=client_ip(request), **data.validated_data)
        return Response(FollowUpTemplateSerializer(template).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=FollowUpTemplateWriteSerializer,
        responses={200: FollowUpTemplateSerializer, 400: ERROR_RESPONSE},
    )
    def partial_update(self, request, pk=None):
        template = self.get_object()
        data = FollowUpTemplateWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        current = {
            "title": template.title,
            "content": template.content,
            "type": template.type,
            "is_shared": template.is_shared,
        }
        template = services.template_update(
            actor=request.user, template=template, ip=client_ip(request), **(current | data.validated_data)
        )
        return Response(FollowUpTemplateSerializer(template).data)

    @extend_schema(responses={204: None, 400: ERROR_RESPONSE})
    def destroy(self, request, pk=None):
        services.template_delete(actor=request.user, template=self.get_object(), ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
