"""Agent workspace: the queue, the ticket page and the ticket's htmx actions."""

from django.urls import path

from pledge.tickets import views

app_name = "tickets"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("tickets/<int:ticket_id>/", views.ticket_detail, name="detail"),
    path("tickets/<int:ticket_id>/messages/", views.ticket_compose, name="compose"),
    path("tickets/<int:ticket_id>/status/", views.ticket_transition, name="transition"),
    path("tickets/<int:ticket_id>/assignment/", views.ticket_assign, name="assign"),
    path("tickets/<int:ticket_id>/assignees/", views.assignee_options, name="assignee_options"),
    path("tickets/<int:ticket_id>/priority/", views.ticket_priority, name="priority"),
    path("tickets/<int:ticket_id>/tags/", views.ticket_tags, name="tags"),
    path("attachments/<int:attachment_id>/", views.attachment_download, name="attachment"),
]
