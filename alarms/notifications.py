"""Outbound notifications (e-mail, signed webhooks). Being written; see notify_transition."""


def notify_transition(*, event_id: int) -> None:
    """Send the notifications of one alarm transition (opened, escalated, cleared)."""
