"""Models shared by every app: idempotency records for retried creates."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class IdempotencyKey(models.Model):
    """Remembers which object a client's `Idempotency-Key` created, so a retry returns the same one."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+"
    )
    scope = models.CharField(_("scope"), max_length=40)
    key = models.CharField(_("key"), max_length=200)
    object_id = models.BigIntegerField(_("object id"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=["user", "scope", "key"], name="idempotency_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"
