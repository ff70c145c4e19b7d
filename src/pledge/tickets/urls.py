"""Agent workspace: the queue, the ticket page and the ticket's htmx actions (arrival on site, watching,
SOP steps and resolving over checkpoints included), and the New ticket page with its htmx pickers."""

from django.urls import path

from pledge.tickets import views

app_name = "tickets"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("tickets/new/", views.ticket_new, name="new"),
    path("tickets/new/organisations/", views.new_organisations, name="new_organisations"),
    path("tickets/new/organisation/", views.new_organisation_details, name="new_organisation_details"),
    path("tickets/new/assignees/", views.new_assignee_options, name="new_assignees"),
    path("tickets/<int:ticket_id>/", views.ticket_detail, name="detail"),
    path("tickets/<int:ticket_id>/messages/", views.ticket_compose, name="compose"),
    path("tickets/<int:ticket_id>/status/", views.ticket_transition, name="transition"),
    path("tickets/<int:ticket_id>/status/override/", views.ticket_override, name="override"),
    path("tickets/<int:ticket_id>/steps/<int:position>/", views.ticket_step, name="step"),
    path("tickets/<int:ticket_id>/assignment/", views.ticket_assign, name="assign"),
    path("tickets/<int:ticket_id>/assignees/", views.assignee_options, name="assignee_options"),
    path("tickets/<int:ticket_id>/priority/", views.ticket_priority, name="priority"),
    path("tickets/<int:ticket_id>/tags/", views.ticket_tags, name="tags"),
    path("tickets/<int:ticket_id>/arrival/", views.ticket_arrival, name="arrival"),
    path("tickets/<int:ticket_id>/watchers/", views.ticket_watch, name="watch"),
    path("tickets/<int:ticket_id>/watchers/remove/", views.ticket_unwatch, name="unwatch"),
    path("attachments/<int:attachment_id>/", views.attachment_download, name="attachment"),
]
