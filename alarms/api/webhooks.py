"""Plant webhooks: ``GET/POST /api/plants/{id}/webhooks``, ``DELETE .../webhooks/{webhookId}``
and ``POST .../webhooks/{webhookId}/test``.

Listing needs the plant's VIEW right; creating, deleting and testing need ``manage_keys``
(owner, installer, platform admin), like the plant's ingest keys. A plant you cannot see is 404,
a visible one you may not manage 403. The signing secret is shown once, in the create answer;
lists show a masked hint. Members without ``manage_keys`` see only the URL's scheme and host
(webhook URLs often carry tokens themselves).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from plants.access import PlantAction, plant_actions_for
from solarhub.api.scoping import PlantScopedAPIView

from .. import services
from ..choices import Severity
from ..models import Webhook
from ..notifications import webhook_test


def _secret_hint(secret: str) -> str:
    return f"{secret[:4]}…{secret[-2:]}" if len(secret) > 8 else "…"


def _public_url(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}/…"


class WebhookSerializer(serializers.ModelSerializer):
    plant_id = serializers.IntegerField(read_only=True)
    created_by = serializers.IntegerField(source="created_by_id", read_only=True, allow_null=True)
    secret_hint = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = Webhook
        fields = ["id", "plant_id", "name", "url", "min_severity", "active", "secret_hint", "created_by", "created_at"]
        read_only_fields = fields

    def get_secret_hint(self, obj: Webhook) -> str:
        return _secret_hint(obj.secret)

    def get_url(self, obj: Webhook) -> str:
        return obj.url if self.context.get("full_url", True) else _public_url(obj.url)


class WebhookCreatedSerializer(WebhookSerializer):
    secret = serializers.CharField(read_only=True, help_text="Signing secret. Shown once: store it now.")

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=128, required=False, allow_blank=True, default="")
    url = serializers.URLField(max_length=500)
    min_severity = serializers.ChoiceField(choices=Severity.choices, required=False, default=Severity.LOW)

    def validate_url(self, value: str) -> str:
        problem = services.webhook_url_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value


class WebhookTestResultSerializer(serializers.Serializer):
    delivered = serializers.BooleanField()
    status_code = serializers.IntegerField(allow_null=True)
    error = serializers.CharField(allow_blank=True)


_MANAGE = PlantAction.MANAGE_KEYS


@extend_schema(tags=["alarms"])
class WebhookListView(PlantScopedAPIView):
    """The plant's alarm webhooks (secrets masked), and creating one (secret shown once)."""

    plant_actions = {"POST": _MANAGE}

    @extend_schema(responses=WebhookSerializer(many=True))
    def get(self, request, plant_id: int):
        plant = self.plant
        full = PlantAction.MANAGE_KEYS in plant_actions_for(request.user, plant)
        hooks = Webhook.objects.filter(plant=plant)
        return Response(WebhookSerializer(hooks, many=True, context={"full_url": full}).data)

    @extend_schema(request=WebhookCreateSerializer, responses={201: WebhookCreatedSerializer})
    def post(self, request, plant_id: int):
        serializer = WebhookCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        webhook = services.webhook_create(by=request.user, plant_id=plant_id, **serializer.validated_data)
        return Response(WebhookCreatedSerializer(webhook).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["alarms"], request=None, responses={204: None})
class WebhookDetailView(PlantScopedAPIView):
    plant_actions = {"DELETE": _MANAGE}

    def delete(self, request, plant_id: int, webhook_id: int):
        services.webhook_delete(by=request.user, plant_id=self.plant.pk, webhook_id=webhook_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["alarms"], request=None, responses={200: WebhookTestResultSerializer})
class WebhookTestView(PlantScopedAPIView):
    """Send a signed ``{"type": "ping"}`` to the webhook now and report what it answered: the
    HTTP status when a server answered, else one "delivery failed" after the full timeout,
    whatever the reason (no port-scan oracle)."""

    plant_actions = {"POST": _MANAGE}

    def post(self, request, plant_id: int, webhook_id: int):
        result = webhook_test(webhook=services.webhook_of(plant=self.plant, webhook_id=webhook_id))
        return Response(WebhookTestResultSerializer(result).data)
