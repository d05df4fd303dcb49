"""Enumerations of the plants app."""

from django.db import models


class PlantRole(models.TextChoices):
    """Per-plant roles, most powerful first (architecture.md)."""

    OWNER = "owner", "Owner"
    INSTALLER = "installer", "Installer"
    ENGINEER = "engineer", "Engineer"
    OPERATOR = "operator", "Operator"
    VIEWER = "viewer", "Viewer"


# Roles that owners and installers may hand out through the members endpoint. Owner and
# installer follow the plant's owner/installer fields and are never granted as memberships.
GRANTABLE_ROLES = (PlantRole.ENGINEER, PlantRole.OPERATOR, PlantRole.VIEWER)


class PlantEventKind(models.TextChoices):
    """What a plant's history (``PlantEvent``) records."""

    OWNER_CHANGED = "owner_changed", "Owner changed"
    INSTALLER_CHANGED = "installer_changed", "Installer changed"
    OWNERSHIP_OFFERED = "ownership_offered", "Ownership offered (transfer invitation sent)"
    MEMBER_INVITED = "member_invited", "Member invited"
    INVITATION_CANCELLED = "invitation_cancelled", "Invitation cancelled"
    MEMBER_JOINED = "member_joined", "Member joined"
    MEMBER_ROLE_CHANGED = "member_role_changed", "Member role changed"
    MEMBER_REVOKED = "member_revoked", "Membership revoked"


class PlantStatus(models.TextChoices):
    ONLINE = "online", "Online"
    OFFLINE = "offline", "Offline"
    MAINTENANCE = "maintenance", "Maintenance"


class Tracking(models.TextChoices):
    FIXED = "fixed", "Fixed tilt"
    SINGLE_AXIS = "single_axis", "Single-axis tracker"


class DeviceType(models.TextChoices):
    INVERTER = "inverter", "Inverter"
    METER = "meter", "Meter (incl. ABT meter)"
    WEATHER_STATION = "weather_station", "Weather station (WMS)"
    STRING_MONITORING_BOX = "string_monitoring_box", "String monitoring box"
    BESS = "bess", "Battery energy storage system"
    BESS_RACK = "bess_rack", "BESS rack"
    PCS = "pcs", "Power conversion system"
    LOGGER = "logger", "Data logger"


# Seed 000's grouped device routes: /api/devices/{group}
DEVICE_GROUPS = {
    "inverters": DeviceType.INVERTER,
    "wms": DeviceType.WEATHER_STATION,
    "string-monitoring": DeviceType.STRING_MONITORING_BOX,
    "abt-meters": DeviceType.METER,
    "bess": DeviceType.BESS,
    "pcs": DeviceType.PCS,
}

# A device's parent must be of this type (string box → inverter, rack → BESS).
PARENT_TYPES = {
    DeviceType.STRING_MONITORING_BOX: DeviceType.INVERTER,
    DeviceType.BESS_RACK: DeviceType.BESS,
}


class BatteryChemistry(models.TextChoices):
    LFP = "lfp", "LiFePO4 (LFP)"
    NMC = "nmc", "NMC"
    NCA = "nca", "NCA"
    LTO = "lto", "LTO"
    LEAD_ACID = "lead_acid", "Lead-acid"
    FLOW = "flow", "Flow"
    OTHER = "other", "Other"


# --- storage (issue 21) --------------------------------------------------------------------------


class MeterRole(models.TextChoices):
    """What a meter measures on a storage site (``MeterDatasheet.role``)."""

    GRID = "grid", "Grid connection point"
    AUX = "aux", "Auxiliary consumption (HVAC, BMS, lighting)"
    PV = "pv", "PV generation"
