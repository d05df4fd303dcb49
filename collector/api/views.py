"""``/devices/{id}/collection``: the device's collection config and last poll (anyone who sees the
device), replacing or changing it (device rights: ``manage_devices``), and ``…/collection/test``:
poll once now and answer what was read, storing nothing (device rights: it reaches the network
from the server)."""

from __future__ import annotations

from dataclasses import replace

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from collector.api.serializers import (
    TEST_MAX_TIMEOUT,
    CollectionConfigInputSerializer,
    CollectionSerializer,
    CollectionTestSerializer,
    collection_body,
    config_as_input,
    poll_body,
)
from collector.drivers import Target
from collector.models import CollectionConfig
from collector.selectors import collection_config_of
from collector.services import collection_config_save, point_map, target_of, targets_read
from plants.access import PlantAction
from solarhub.api.exceptions import ApiError
from solarhub.api.scoping import PlantScopedAPIView

_CHANGE = {"PUT": PlantAction.MANAGE_DEVICES, "PATCH": PlantAction.MANAGE_DEVICES, "POST": PlantAction.MANAGE_DEVICES}


@extend_schema(tags=["collector"])
class DeviceCollectionView(PlantScopedAPIView):
    plant_actions = _CHANGE

    @extend_schema(responses=CollectionSerializer)
    def get(self, request, device_id: int):
        config = collection_config_of(device=self.device)
        return Response(collection_body(self.device, config, point_map().units))

    @extend_schema(request=CollectionConfigInputSerializer, responses=CollectionSerializer)
    def put(self, request, device_id: int):
        return self._save(request, partial=False)

    @extend_schema(request=CollectionConfigInputSerializer, responses=CollectionSerializer)
    def patch(self, request, device_id: int):
        return self._save(request, partial=True)

    def _save(self, request, *, partial: bool):
        current = collection_config_of(device=self.device)
        if partial and current is None:
            raise ApiError(
                "This device has no collection config yet; PUT a whole one first.",
                code="COLLECTION_NOT_CONFIGURED", status_code=404,
            )  # fmt: skip
        serializer = CollectionConfigInputSerializer(
            data=request.data, partial=partial, context={"current": config_as_input(current) if current else None}
        )
        serializer.is_valid(raise_exception=True)
        config = collection_config_save(device=self.device, data=serializer.to_config_data())
        return Response(collection_body(self.device, config, point_map().units))


@extend_schema(tags=["collector"])
class DeviceCollectionTestView(PlantScopedAPIView):
    plant_actions = _CHANGE

    @extend_schema(
        request=CollectionConfigInputSerializer,
        responses={200: CollectionTestSerializer},
        description="Poll the device once now with its saved config — or with the config in the body, "
        "merged over the saved one and not saved — and answer what was read. Nothing is stored. "
        f"The timeout is capped at {TEST_MAX_TIMEOUT:g} s.",
    )
    def post(self, request, device_id: int):
        current = collection_config_of(device=self.device)
        body = request.data if isinstance(request.data, dict) else {}
        if not body and current is None:
            raise ApiError(
                "This device has no collection config; send one in the body to test it.",
                code="COLLECTION_NOT_CONFIGURED", status_code=400,
            )  # fmt: skip
        target = target_of(current) if current is not None else None
        if body:
            serializer = CollectionConfigInputSerializer(
                data=body, partial=current is not None,
                context={"current": config_as_input(current) if current else None},
            )  # fmt: skip
            serializer.is_valid(raise_exception=True)
            target = _target_with(self.device, current, serializer.to_config_data())
        target = replace(target, timeout=min(target.timeout, TEST_MAX_TIMEOUT))
        result = targets_read(targets=[target])[0]
        return Response(poll_body(result, point_map().units), status=status.HTTP_200_OK)


def _target_with(device, current: CollectionConfig | None, data: dict) -> Target:
    """The config ``current`` with ``data`` over it, as a driver target (unsaved)."""
    config = CollectionConfig(device=device)
    if current is not None:
        for field in CollectionConfig._meta.concrete_fields:
            setattr(config, field.attname, getattr(current, field.attname))
    for name, value in data.items():
        setattr(config, name, value)
    return target_of(config)
