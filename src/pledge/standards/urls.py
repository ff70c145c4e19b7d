"""Service standards pages: calendars, holiday data, SLA policies, the service catalogue, SOPs, handbook."""

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
    path("catalogue/", views.service_list, name="service_list"),
    path("catalogue/new/", views.service_new, name="service_new"),
    path("catalogue/<int:pk>/", views.service_detail, name="service_detail"),
    path("catalogue/<int:pk>/move/", views.service_move, name="service_move"),
    path("catalogue/<int:pk>/active/", views.service_active, name="service_active"),
    path("sops/", views.sop_list, name="sop_list"),
    path("sops/new/", views.sop_new, name="sop_new"),
    path("sops/<slug:code>/", views.sop_detail, name="sop_detail"),
    path("sops/<slug:code>/diff/", views.sop_diff, name="sop_diff"),
    path("sops/<slug:code>/v<int:number>/", views.sop_version, name="sop_version"),
    path("sops/<slug:code>/v<int:number>/details/", views.sop_draft_details, name="sop_draft_details"),
    path("sops/<slug:code>/v<int:number>/new-draft/", views.sop_draft_start, name="sop_draft_start"),
    path("sops/<slug:code>/v<int:number>/approve/", views.sop_approve, name="sop_approve"),
    path("sops/<slug:code>/v<int:number>/discard/", views.sop_discard, name="sop_discard"),
    path("sops/<slug:code>/v<int:number>/steps/new/", views.sop_step_new, name="sop_step_new"),
    path("sops/<slug:code>/v<int:number>/steps/<slug:key>/", views.sop_step_edit, name="sop_step_edit"),
    path(
        "sops/<slug:code>/v<int:number>/steps/<slug:key>/delete/",
        views.sop_step_delete,
        name="sop_step_delete",
    ),
    path("sops/<slug:code>/v<int:number>/steps/<slug:key>/move/", views.sop_step_move, name="sop_step_move"),
    path("handbook/", views.handbook_page, name="handbook"),
]
