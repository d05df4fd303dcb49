"""Domain errors of plant scoping. Selectors and services raise these, never DRF exceptions;
the API's exception handler (``solarhub.api.exceptions``) answers them 404 and 403 in one place,
and management commands or the admin can catch them like any other error."""

from __future__ import annotations

from .access import PlantAction


class PlantAccessError(Exception):
    """Base of the scoping errors."""

    default_message = "Not allowed."

    def __init__(self, message: str | None = None):
        self.message = message or self.default_message
        super().__init__(self.message)


class PlantNotFound(PlantAccessError):
    """The plant does not exist, or the user may not see it: the two are one answer (404), so
    nobody learns that a foreign id exists."""

    default_message = "Plant not found."


class DeviceNotFound(PlantNotFound):
    """The device does not exist, is not of the kind asked for, or sits on a plant the user may
    not see (404)."""

    default_message = "Device not found."


class MemberNotFound(PlantNotFound):
    """No engineer, operator or viewer of that id on the plant (404)."""

    default_message = "No such member."


class InvitationNotFound(PlantNotFound):
    """No such (pending) invitation, or not one for this user (404: a token tells nobody but its
    invitee anything)."""

    default_message = "No such invitation."


class PlantPermissionDenied(PlantAccessError):
    """The user sees the plant but their role does not allow ``action`` (403)."""

    def __init__(self, action: PlantAction | None = None, message: str | None = None):
        self.action = action
        if message is None and action is not None:
            message = f"Your role on this plant does not allow '{action.value}'."
        super().__init__(message)
