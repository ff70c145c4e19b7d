"""Side effects of ticket changes, run after commit: notification mails. Tasks take ids."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.utils import translation
from django.utils.translation import gettext as _
from django_tasks import task

from pledge.tickets.choices import Status


def _send(to: str, language: str, subject: str, body: str) -> None:
    if to:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to], fail_silently=False)


def _contact_address(ticket: object) -> tuple[str, str]:
    contact = getattr(ticket, "contact", None)
    if contact is None or not contact.email:
        return "", settings.LANGUAGE_CODE
    user = contact.user
    return contact.email, (user.language if user and user.language else settings.LANGUAGE_CODE)


@task()
def notify_ticket_created(ticket_id: int) -> None:
    from pledge.tickets.models import Ticket

    ticket = Ticket.objects.select_related("contact__user").filter(pk=ticket_id).first()
    if ticket is None:
        return
    to, lang = _contact_address(ticket)
    with translation.override(lang):
        _send(
            to,
            lang,
            _("[%(number)s] We received your request") % {"number": ticket.number},
            _("We have received %(number)s “%(subject)s” and will reply soon.")
            % {"number": ticket.number, "subject": ticket.subject},
        )


@task()
def notify_ticket_reply(message_id: int) -> None:
    from pledge.tickets.models import Message

    message = (
        Message.objects.select_related("ticket__contact__user", "ticket__assignee")
        .filter(pk=message_id)
        .first()
    )
    if message is None or message.is_internal:
        return
    ticket = message.ticket
    if message.from_customer:
        assignee = ticket.assignee
        if assignee is None or not assignee.email:
            return
        to, lang = assignee.email, assignee.language or settings.LANGUAGE_CODE
    else:
        to, lang = _contact_address(ticket)
    with translation.override(lang):
        _send(
            to,
            lang,
            _("[%(number)s] New reply: %(subject)s") % {"number": ticket.number, "subject": ticket.subject},
            message.body,
        )


@task()
def notify_ticket_status(ticket_id: int, old: str, new: str) -> None:
    from pledge.tickets.models import Ticket

    if new != Status.RESOLVED:
        return
    ticket = Ticket.objects.select_related("contact__user").filter(pk=ticket_id).first()
    if ticket is None:
        return
    to, lang = _contact_address(ticket)
    with translation.override(lang):
        _send(
            to,
            lang,
            _("[%(number)s] Resolved: %(subject)s") % {"number": ticket.number, "subject": ticket.subject},
            _("We have resolved %(number)s. If the problem remains, reply in the portal to reopen it.")
            % {"number": ticket.number},
        )


@task()
def notify_ticket_assigned(ticket_id: int) -> None:
    from pledge.tickets.models import Ticket

    ticket = Ticket.objects.select_related("assignee").filter(pk=ticket_id).first()
    if ticket is None or ticket.assignee is None or not ticket.assignee.email:
        return
    user = ticket.assignee
    lang = user.language or settings.LANGUAGE_CODE
    with translation.override(lang):
        _send(
            user.email,
            lang,
            _("[%(number)s] Assigned to you: %(subject)s")
            % {"number": ticket.number, "subject": ticket.subject},
            _("%(number)s has been assigned to you.") % {"number": ticket.number},
        )


@task()
def notify_escalation(notification_id: int) -> None:
    """Email an escalation notice to its user (the in-app notice already exists)."""
    from pledge.accounts.models import Notification

    notification = Notification.objects.select_related("user", "ticket").filter(pk=notification_id).first()
    if notification is None or not notification.user.email:
        return
    user = notification.user
    lang = user.language or settings.LANGUAGE_CODE
    with translation.override(lang):
        body = notification.body
        if notification.ticket is not None:
            body = _("%(number)s “%(subject)s” needs attention.") % {
                "number": notification.ticket.number,
                "subject": notification.ticket.subject,
            }
        _send(user.email, lang, notification.title, body)
