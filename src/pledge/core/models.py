"""Models shared by every app: idempotency records for retried creates, and the periodic sweeps' schedule
(core/periodic.py)."""

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


class PeriodicSweep(models.Model):
    """One row per periodic sweep: when it is next due and how its last run went.

    Workers claim a slot by moving `next_run_at` forward with a conditional UPDATE (core/periodic.py);
    the rest is a record for operators."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    next_run_at = models.DateTimeField(_("next run at"))
    last_started_at = models.DateTimeField(_("last started at"), null=True, blank=True)
    last_finished_at = models.DateTimeField(_("last finished at"), null=True, blank=True)
    last_worker = models.CharField(_("last worker"), max_length=64, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_handled = models.BigIntegerField(_("items handled last time"), null=True, blank=True)
    runs = models.PositiveBigIntegerField(_("runs"), default=0)

    class Meta:
        verbose_name = _("periodic sweep")
        verbose_name_plural = _("periodic sweeps")

    def __str__(self) -> str:
        return self.name


class PeriodicSweepRun(models.Model):
    """One claimed slot of a sweep. The unique (name, slot_start) pair is the database's own guarantee
    that a slot ran at most once, whatever the workers do."""

    name = models.CharField(_("name"), max_length=100)
    slot_start = models.DateTimeField(_("slot start"))
    worker = models.CharField(_("worker"), max_length=64)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    handled = models.BigIntegerField(_("items handled"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("periodic sweep run")
        verbose_name_plural = _("periodic sweep runs")
        constraints = [
            models.UniqueConstraint(fields=["name", "slot_start"], name="periodic_sweep_run_slot_unique"),
        ]
        indexes = [models.Index(fields=["started_at"], name="periodic_sweep_run_started")]

    def __str__(self) -> str:
        return f"{self.name} @ {self.slot_start.isoformat()}"
