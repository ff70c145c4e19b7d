"""Admin for business calendars (with their holidays and make-up days), their versions and holiday years,
and a read-only view of SLA policies.

The admin saves the calendar's rows itself; the form checks them as an import would, and every save is
then recorded as a new version through services.calendar_record_edit. Versions and imported holiday
years are read-only here: holiday years come from `pledge holidays import`. SLA policies are read-only
too: they are changed on the Service standards pages or through the API, whose services check them and
recount the clocks of the tickets under them.
"""

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from pledge.core.admin import ReadOnlyAdmin
from pledge.core.errors import ValidationFailed
from pledge.standards import services
from pledge.standards.calendar_files import parse_calendar
from pledge.standards.models import (
    BusinessCalendar,
    CalendarHoliday,
    CalendarMakeupDay,
    CalendarVersion,
    EscalationLevel,
    HolidaySetYear,
    SlaPolicy,
)


class BusinessCalendarForm(forms.ModelForm):
    class Meta:
        model = BusinessCalendar
        fields = ("code", "name", "timezone", "weekly", "holiday_sets", "team", "contract", "site")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        document = {
            "code": cleaned.get("code") or "",
            "name": cleaned.get("name") or "",
            "timezone": cleaned.get("timezone") or "",
            "weekly": cleaned.get("weekly"),
            "holiday_sets": cleaned.get("holiday_sets"),
            "site": cleaned.get("site") or "",
        }
        if cleaned.get("team") is not None:
            document["team"] = cleaned["team"].name
        if cleaned.get("contract") is not None:
            document["contract"] = cleaned["contract"].number
        try:
            parsed = parse_calendar(document)
        except ValidationFailed as error:
            for path, message in error.fields.items():
                field = path.split(".", 1)[0].split("[", 1)[0]
                target = field if field in self.fields else None
                self.add_error(target, ValidationError(f"{path}: {message}"))
            return cleaned
        cleaned["weekly"] = parsed.weekly_data()  # stored in the canonical form
        cleaned["holiday_sets"] = list(parsed.holiday_sets)
        return cleaned


class CalendarHolidayInline(admin.TabularInline):
    model = CalendarHoliday
    extra = 0
    fields = ("date", "name", "is_active")


class CalendarMakeupDayInline(admin.TabularInline):
    model = CalendarMakeupDay
    extra = 0
    fields = ("date", "weekday")


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    form = BusinessCalendarForm
    list_display = ("code", "name", "timezone", "team", "contract", "site", "version", "updated_at")
    search_fields = ("code", "name", "site")
    list_select_related = ("team", "contract")
    autocomplete_fields = ("team", "contract")
    readonly_fields = ("version", "updated_at")
    inlines = [CalendarHolidayInline, CalendarMakeupDayInline]

    def save_related(self, request, form, formsets, change):  # type: ignore[no-untyped-def]
        super().save_related(request, form, formsets, change)
        # The admin wraps the whole save in one transaction: the version is recorded with it.
        services.calendar_record_edit(calendar=form.instance, actor=request.user, created=not change)


@admin.register(CalendarVersion)
class CalendarVersionAdmin(ReadOnlyAdmin):
    list_display = ("calendar", "version", "reason", "created_by", "created_at")
    list_select_related = ("calendar", "created_by")
    search_fields = ("calendar__code", "reason")


@admin.register(HolidaySetYear)
class HolidaySetYearAdmin(admin.ModelAdmin):
    list_display = ("set_code", "year", "source", "imported_by", "imported_at")
    list_filter = ("set_code",)

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False


class EscalationLevelInline(admin.TabularInline):
    model = EscalationLevel
    extra = 0
    fields = ("target", "percent", "notify", "raise_priority", "reassign_team", "add_watcher")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(SlaPolicy)
class SlaPolicyAdmin(ReadOnlyAdmin):
    list_display = ("name", "position", "is_active", "contract", "calendar", "version", "updated_at")
    list_select_related = ("contract", "calendar")
    search_fields = ("name",)
    inlines = [EscalationLevelInline]
