"""Service standards pages: calendars, holiday data, SLA policies."""

from django.urls import path

from pledge.standards import views

app_name = "standards"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("calendar-import/", views.calendar_import, name="calendar_import"),
    path("calendars/<slug:code>/", views.calendar_detail, name="calendar_detail"),
    path("calendars/<slug:code>/days/", views.calendar_day, name="calendar_day"),
    path("calendars/<slug:code>/settings/", views.calendar_settings, name="calendar_settings"),
    path("calendars/<slug:code>/export/", views.calendar_export, name="calendar_export"),
    path("calendars/<slug:code>/versions/<int:version>/", views.calendar_version, name="calendar_version"),
    path("holidays/", views.holidays, name="holidays"),
    path("policies/", views.policy_list, name="policy_list"),
    path("policies/new/", views.policy_new, name="policy_new"),
    path("policies/preview/", views.policy_preview, name="policy_preview"),
    path("policies/<int:pk>/", views.policy_detail, name="policy_detail"),
    path("policies/<int:pk>/escalations/", views.policy_escalations, name="policy_escalations"),
    path("policies/<int:pk>/move/", views.policy_move, name="policy_move"),
    path("policies/<int:pk>/active/", views.policy_active, name="policy_active"),
]
