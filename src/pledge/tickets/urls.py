"""Agent workspace: the queue and the ticket page."""

from django.urls import path

from pledge.tickets import views

app_name = "tickets"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("tickets/<int:ticket_id>/", views.ticket_detail, name="detail"),
    path("attachments/<int:attachment_id>/", views.attachment_download, name="attachment"),
]
