"""Read-only admin for the worker's periodic sweeps: when each last ran, where, and how it went."""

from django.contrib import admin

from pledge.core.models import PeriodicSweep, PeriodicSweepRun


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never changed here: these records change only through the services (or not at all)."""

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False


@admin.register(PeriodicSweep)
class PeriodicSweepAdmin(ReadOnlyAdmin):
    list_display = (
        "name",
        "next_run_at",
        "last_started_at",
        "last_finished_at",
        "last_worker",
        "runs",
        "last_error",
    )


@admin.register(PeriodicSweepRun)
class PeriodicSweepRunAdmin(ReadOnlyAdmin):
    list_display = ("name", "slot_start", "worker", "started_at", "finished_at", "handled", "error")
    list_filter = ("name", "worker")
    date_hierarchy = "started_at"
