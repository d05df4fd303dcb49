"""Celery tasks of the accounts app: thin, call a service."""

from celery import shared_task


@shared_task(name="accounts.flush_expired_tokens")
def flush_expired_tokens() -> int:
    """Daily (beat): delete expired refresh tokens from the outstanding/blacklist tables."""
    from accounts.services import expired_tokens_flush

    return expired_tokens_flush()
