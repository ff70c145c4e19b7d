"""Customer portal: the organisation's tickets, submitting a request, one ticket's page and its forms."""

from django.urls import path

from pledge.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.ticket_list, name="ticket_list"),
    path("new/", views.ticket_new, name="ticket_new"),
    path("tickets/<int:ticket_id>/", views.ticket_detail, name="ticket_detail"),
    path("tickets/<int:ticket_id>/reply/", views.ticket_reply, name="ticket_reply"),
    path("tickets/<int:ticket_id>/confirm/", views.ticket_confirm, name="ticket_confirm"),
]
