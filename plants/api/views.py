"""Views of the plants API. Every queryset is plant-scoped by ``PlantScopedViewSet``; writes go
through ``plants.services``, which re-check rights inside the transaction."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from plants import services
from plants.access import PlantAction, may_create_plants, may_transfer_ownership
from plants.choices import DEVICE_GROUPS
from plants.exceptions import PlantNotFound
from plants.filters import DeviceFilter, PlantFilter
from plants.live import device_live_annotate
from plants.models import Device, PanelSpec, PlantEvent, PlantInvitation, PlantMembership
from plants.selectors import device_list_visible_to, plant_list_visible_to
from solarhub.api.filters import filter_list, filterset_schema_parameters
from solarhub.api.scoping import PlantScopedViewSet

from .serializers import (
    DeviceDetailSerializer,
    DeviceListSerializer,
    InvitationAcceptedSerializer,
    InvitationSerializer,
    MemberGrantSerializer,
    MemberRevokeSerializer,
    MemberRoleSerializer,
    MemberSerializer,
    PanelSpecSerializer,
    PlantDetailSerializer,
    PlantEventSerializer,
    PlantListSerializer,
    TransferSerializer,
)

DEVICE_FIELDS = (
    "name", "type", "serial_number", "manufacturer", "model", "firmware", "capacity_kw",
    "commissioned_at", "operational", "parent_id",
)  # fmt: skip


def _plant_data(validated: dict) -> dict:
    data = dict(validated)
    for key, field in (("owner_id", "owner"), ("installer_id", "installer")):
        if key in data:
            user_id = data.pop(key)
            data[field] = get_user_model().objects.filter(pk=user_id).first() if user_id is not None else None
            if user_id is not None and data[field] is None:
                raise exceptions.ValidationError({key: ["Unknown user."]})
    data.pop("device_count", None)
    return data


@extend_schema_view(
    list=extend_schema(tags=["plants"], summary="Plants you may see (seed 001 list shape)"),
    retrieve=extend_schema(tags=["plants"], summary="One plant (seed 001 detail + configuration)"),
    create=extend_schema(tags=["plants"], summary="Create a plant (installers, plant admins)"),
    update=extend_schema(tags=["plants"]),
    partial_update=extend_schema(tags=["plants"]),
    destroy=extend_schema(tags=["plants"], summary="Delete a plant and all its data (plant admins)"),
)
class PlantViewSet(PlantScopedViewSet):
    plant_scope_field = "id"
    lookup_value_regex = r"\d+"
    filterset_class = PlantFilter
    search_fields = ["name", "location", "plant_code"]
    ordering_fields = ["id", "name", "total_power_output_kw", "created_at"]
    schema_error_codes = (409,)  # TOO_MANY_INVITATIONS (members, transfer)
    plant_actions = {
        "list": None,
        "retrieve": None,
        "update": PlantAction.CHANGE_PLANT,
        "partial_update": PlantAction.CHANGE_PLANT,
        "destroy": PlantAction.DELETE_PLANT,
        "devices": None,
        "panel_specs": None,
        "members": PlantAction.MANAGE_MEMBERS,
        # writes below are re-checked by the service inside its transaction; the object check
        # here decides the right before the body is validated (a 403 for any body)
        "devices_create": PlantAction.MANAGE_DEVICES,
        "panel_specs_create": PlantAction.MANAGE_DEVICES,
        "members_grant": PlantAction.MANAGE_MEMBERS,
        "members_revoke": PlantAction.MANAGE_MEMBERS,
        "member_revoke": PlantAction.MANAGE_MEMBERS,
        "member_update": PlantAction.MANAGE_MEMBERS,
        "invitations": PlantAction.MANAGE_MEMBERS,
        "invitation_cancel": PlantAction.MANAGE_MEMBERS,
        "history": PlantAction.MANAGE_MEMBERS,
        "transfer": None,  # may_transfer_ownership, checked in the view before the body
    }

    def get_queryset(self):
        return plant_list_visible_to(self.request.user)

    def get_serializer_class(self):
        return PlantListSerializer if self.action == "list" else PlantDetailSerializer

    def create(self, request, *args, **kwargs):
        # Who may create plants depends on the account alone: decided before the body is read,
        # so a customer gets 403 for any body, not a 400 listing its faults (the service
        # re-checks inside its transaction).
        if not may_create_plants(request.user):
            raise exceptions.PermissionDenied("Only installers and plant administrators can create plants.")
        serializer = PlantDetailSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        plant = services.plant_create(by=request.user, data=_plant_data(serializer.validated_data))
        return Response(
            PlantDetailSerializer(self.get_queryset().get(pk=plant.pk)).data, status=status.HTTP_201_CREATED
        )

    def update(self, request, *args, **kwargs):
        plant = self.get_object()  # 404 when invisible, 403 when not allowed
        serializer = PlantDetailSerializer(plant, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        services.plant_update(by=request.user, plant_id=plant.pk, data=_plant_data(serializer.validated_data))
        return Response(PlantDetailSerializer(self.get_queryset().get(pk=plant.pk)).data)

    def destroy(self, request, *args, **kwargs):
        plant = self.get_object()
        services.plant_delete(by=request.user, plant_id=plant.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        tags=["devices"],
        summary="Devices of one plant",
        parameters=filterset_schema_parameters(DeviceFilter, search=True, ordering=True),
        responses=DeviceListSerializer(many=True),
    )
    @action(detail=True, methods=["get"], url_path="devices")
    def devices(self, request, pk=None):
        plant = self.get_object()  # never filtered by the plant list's own filters
        devices = device_live_annotate(queryset=Device.objects.filter(plant=plant).order_by("id"))
        queryset = filter_list(
            request,
            devices,
            filterset_class=DeviceFilter,
            search_fields=DeviceViewSet.search_fields,
            ordering_fields=DeviceViewSet.ordering_fields,
        )
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(DeviceListSerializer(page, many=True).data)

    @extend_schema(tags=["devices"], request=DeviceDetailSerializer, responses={201: DeviceDetailSerializer})
    @devices.mapping.post
    def devices_create(self, request, pk=None):
        plant = self.get_object()
        # the parser has already turned camelCase keys into snake_case
        data = {**request.data, "plant_id": plant.pk} if isinstance(request.data, dict) else request.data
        return _create_device(request, data, plant_in_url=True)

    @extend_schema(tags=["plants"], summary="Panel specs of a plant", responses=PanelSpecSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="panel-specs")
    def panel_specs(self, request, pk=None):
        plant = self.get_object()
        return Response(PanelSpecSerializer(PanelSpec.objects.filter(plant=plant), many=True).data)

    @extend_schema(tags=["plants"], request=PanelSpecSerializer, responses={201: PanelSpecSerializer})
    @panel_specs.mapping.post
    def panel_specs_create(self, request, pk=None):
        plant = self.get_object()
        serializer = PanelSpecSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        spec = services.panel_spec_create(by=request.user, plant_id=plant.pk, data=serializer.validated_data)
        return Response(PanelSpecSerializer(spec).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=["plants"],
        summary="Members of a plant (owners, installers, admins)",
        responses=MemberSerializer(many=True),
    )
    @action(detail=True, methods=["get"], url_path="members")
    def members(self, request, pk=None):
        plant = self.get_object()
        memberships = PlantMembership.objects.filter(plant=plant).select_related("user").order_by("id")
        return Response(MemberSerializer(memberships, many=True).data)

    @extend_schema(
        tags=["plants"],
        summary="Invite a member by e-mail (the same 202 whether or not the address has an account)",
        request=MemberGrantSerializer,
        responses={202: InvitationSerializer},
    )
    @members.mapping.post
    def members_grant(self, request, pk=None):
        plant = self.get_object()
        serializer = MemberGrantSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        invitation = services.membership_invite(
            by=request.user,
            plant_id=plant.pk,
            email=serializer.validated_data["email"],
            role=serializer.validated_data["role"],
        )
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(tags=["plants"], request=MemberRevokeSerializer, responses={204: None})
    @members.mapping.delete
    def members_revoke(self, request, pk=None):
        plant = self.get_object()
        serializer = MemberRevokeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.membership_revoke(by=request.user, plant_id=plant.pk, user_id=serializer.validated_data["user_id"])
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(tags=["plants"], request=None, responses={204: None}, operation_id="plants_member_destroy")
    @action(detail=True, methods=["delete"], url_path=r"members/(?P<user_id>\d+)", url_name="member-detail")
    def member_revoke(self, request, pk=None, user_id=None):
        plant = self.get_object()
        services.membership_revoke(by=request.user, plant_id=plant.pk, user_id=int(user_id))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        tags=["plants"],
        summary="Change a member's role (engineer, operator, viewer)",
        request=MemberRoleSerializer,
        responses={200: MemberSerializer},
        operation_id="plants_member_partial_update",
    )
    @member_revoke.mapping.patch
    def member_update(self, request, pk=None, user_id=None):
        plant = self.get_object()
        serializer = MemberRoleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = services.membership_role_change(
            by=request.user, plant_id=plant.pk, user_id=int(user_id), role=serializer.validated_data["role"]
        )
        return Response(MemberSerializer(membership).data)

    @extend_schema(
        tags=["plants"],
        summary="Pending invitations of a plant (members and an ownership offer)",
        responses=InvitationSerializer(many=True),
    )
    @action(detail=True, methods=["get"], url_path="invitations")
    def invitations(self, request, pk=None):
        plant = self.get_object()
        pending = PlantInvitation.objects.filter(plant=plant, accepted_at__isnull=True).order_by("id")
        return Response(InvitationSerializer(pending, many=True).data)

    @extend_schema(
        tags=["plants"],
        summary="Withdraw a pending invitation",
        request=None,
        responses={204: None},
        operation_id="plants_invitation_destroy",
    )
    @action(
        detail=True,
        methods=["delete"],
        url_path=r"invitations/(?P<invitation_id>\d+)",
        url_name="invitation-detail",
    )
    def invitation_cancel(self, request, pk=None, invitation_id=None):
        plant = self.get_object()
        services.invitation_cancel(by=request.user, plant_id=plant.pk, invitation_id=int(invitation_id))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        tags=["plants"],
        summary="Hand the plant to a new owner (owner or plant admin; audited, ingest keys revoked)",
        request=TransferSerializer,
        responses={202: InvitationSerializer, 200: PlantEventSerializer},
    )
    @action(detail=True, methods=["post"], url_path="transfer")
    def transfer(self, request, pk=None):
        plant = self.get_object()
        if not may_transfer_ownership(request.user, plant):  # decided before the body is read
            raise exceptions.PermissionDenied(
                "Only the plant's owner or a plant administrator can hand it to a new owner "
                "(its installer too while it has none)."
            )
        serializer = TransferSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "owner_email" in data:
            invitation = services.plant_transfer_invite(by=request.user, plant_id=plant.pk, email=data["owner_email"])
            return Response(InvitationSerializer(invitation).data, status=status.HTTP_202_ACCEPTED)
        owner = get_user_model().objects.filter(pk=data["owner_id"]).first()
        event = services.plant_transfer(by=request.user, plant_id=plant.pk, owner=owner)
        return Response(PlantEventSerializer(event).data)

    @extend_schema(
        tags=["plants"],
        summary="The plant's history: owner and installer changes, invitations, memberships",
        responses=PlantEventSerializer(many=True),
    )
    @action(detail=True, methods=["get"], url_path="history")
    def history(self, request, pk=None):
        plant = self.get_object()
        events = PlantEvent.objects.filter(plant=plant).order_by("-at", "-id")
        page = self.paginate_queryset(events)
        return self.get_paginated_response(PlantEventSerializer(page, many=True).data)


@extend_schema(
    tags=["plants"],
    summary="Accept a plant invitation (the signed-in invitee, with the e-mailed token)",
    request=None,
    responses={200: InvitationAcceptedSerializer},
)
class InvitationAcceptView(APIView):
    """The token comes from the invitation e-mail; the invitation must be addressed to the
    signed-in account's e-mail. Unknown, foreign and void tokens are one 404."""

    schema_error_codes = (410,)  # INVITATION_EXPIRED

    def post(self, request, token: str):
        plant, role = services.invitation_accept(by=request.user, token=token)
        return Response(InvitationAcceptedSerializer({"plant_id": plant.pk, "role": role}).data)


def _create_device(request, data, *, plant_in_url: bool) -> Response:
    serializer = DeviceDetailSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    validated = dict(serializer.validated_data)
    fields = {key: validated[key] for key in DEVICE_FIELDS if key in validated}
    if "capacity_kw" in validated:
        fields["capacity_kw"] = validated["capacity_kw"]
    try:
        device = services.device_create(
            by=request.user, plant_id=validated["plant_id"], data=fields, datasheet=validated.get("datasheet")
        )
    except PlantNotFound:
        if plant_in_url:
            raise
        raise exceptions.ValidationError({"plant_id": ["Unknown plant."]}) from None
    device = device_live_annotate(queryset=Device.objects.select_related(*_SHEETS)).get(pk=device.pk)
    return Response(DeviceDetailSerializer(device).data, status=status.HTTP_201_CREATED)


_SHEETS = ("inverter_datasheet", "meter_datasheet", "string_box_datasheet", "bess_datasheet", "pcs_datasheet")


@extend_schema_view(
    list=extend_schema(tags=["devices"], summary="Devices you may see (seed 001 list shape)"),
    retrieve=extend_schema(tags=["devices"], summary="One device with its datasheet"),
    create=extend_schema(tags=["devices"], summary="Register a device (plantId in the body)"),
    update=extend_schema(tags=["devices"]),
    partial_update=extend_schema(tags=["devices"]),
    destroy=extend_schema(tags=["devices"]),
)
class DeviceViewSet(PlantScopedViewSet):
    queryset = Device.objects.all()
    lookup_value_regex = r"\d+"
    filterset_class = DeviceFilter
    search_fields = ["name", "serial_number", "model", "manufacturer"]
    ordering_fields = ["id", "name", "type", "created_at"]

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action != "list":
            queryset = queryset.select_related(*_SHEETS)
        # live fields (status, currentOutput...) as subqueries of the same SELECT: no extra query
        return device_live_annotate(queryset=queryset)

    def get_serializer_class(self):
        return DeviceListSerializer if self.action == "list" else DeviceDetailSerializer

    def create(self, request, *args, **kwargs):
        return _create_device(request, request.data, plant_in_url=False)

    def update(self, request, *args, **kwargs):
        device = self.get_object()
        serializer = DeviceDetailSerializer(device, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        validated = dict(serializer.validated_data)
        fields = {key: validated[key] for key in DEVICE_FIELDS if key in validated}
        if "plant_id" in validated:
            fields["plant_id"] = validated["plant_id"]
        try:
            services.device_update(by=request.user, device=device, data=fields, datasheet=validated.get("datasheet"))
        except PlantNotFound:
            raise exceptions.ValidationError({"plant_id": ["Unknown plant."]}) from None
        return Response(DeviceDetailSerializer(self.get_queryset().get(pk=device.pk)).data)

    def destroy(self, request, *args, **kwargs):
        services.device_delete(by=request.user, device=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    get=extend_schema(
        tags=["devices"],
        operation_id="devices_group_list",
        summary="Devices of one kind (seed 000 grouped routes)",
        parameters=[OpenApiParameter("group", str, OpenApiParameter.PATH, enum=list(DEVICE_GROUPS))],
    )
)
class DeviceGroupListView(ListAPIView):
    """``/devices/inverters``, ``/devices/wms``, ``/devices/string-monitoring``,
    ``/devices/abt-meters``, ``/devices/bess``, ``/devices/pcs``."""

    serializer_class = DeviceListSerializer
    filterset_class = DeviceFilter

    queryset = Device.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Device.objects.none()
        device_type = DEVICE_GROUPS.get(self.kwargs["group"])
        if device_type is None:
            raise exceptions.NotFound()
        devices = device_list_visible_to(self.request.user, with_live=True).filter(type=device_type)
        if self.kwargs["group"] == "abt-meters":  # seed 000: ABT (availability-based tariff) meters only
            devices = devices.filter(meter_datasheet__is_abt=True)
        return devices
