"""A password change, by any path, revokes every refresh token of the user.

The paths are many — the API, the Django admin's password form, allauth's reset and change
pages, ``manage.py changepassword``, a shell — and all of them end in saving the user with a new
password hash. So the rule sits on the save: the stored hash is compared before the save and, if
it changed, every outstanding refresh token of the user is blacklisted once the transaction
commits. Access tokens die at the same moment by another route: each carries a digest of the
password hash (simplejwt's ``CHECK_REVOKE_TOKEN``), checked on every request.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

User = get_user_model()


@receiver(pre_save, sender=User, dispatch_uid="accounts_password_before")
def _remember_stored_password(sender, instance, raw=False, update_fields=None, **kwargs):
    if raw or instance.pk is None or (update_fields is not None and "password" not in update_fields):
        instance._stored_password = None
        return
    instance._stored_password = sender.objects.filter(pk=instance.pk).values_list("password", flat=True).first()


@receiver(post_save, sender=User, dispatch_uid="accounts_password_after")
def _revoke_on_password_change(sender, instance, created, raw=False, **kwargs):
    stored = getattr(instance, "_stored_password", None)
    instance._stored_password = None
    if raw or created or stored is None or stored == instance.password:
        return
    from .services import user_tokens_revoke

    user_id = instance.pk
    transaction.on_commit(lambda: user_tokens_revoke(user_id=user_id))
