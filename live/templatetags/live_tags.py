"""Dates and times of live sessions as people read them: 2020年4月16日（星期四）19:30–21:30, Beijing time."""
from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _

register = template.Library()


def _local(value):
    return timezone.localtime(value) if timezone.is_aware(value) else value


def _is_chinese() -> bool:
    return (get_language() or "").startswith("zh")


@register.filter
def live_date(value) -> str:
    if not value:
        return ""
    value = _local(value)
    if _is_chinese():
        return f"{value.year}年{value.month}月{value.day}日（{date_format(value, 'l')}）"
    return date_format(value, "l, j F Y")


@register.filter
def live_when(start, end=None) -> str:
    """The day and the time span, in Beijing time; an end on another day shows its date too."""
    if not start:
        return ""
    start = _local(start)
    sep = "" if _is_chinese() else " "  # the full-width bracket already spaces it
    text = f"{live_date(start)}{sep}{start:%H:%M}"
    if end:
        end = _local(end)
        text += f"–{end:%H:%M}" if end.date() == start.date() else f" – {live_date(end)}{sep}{end:%H:%M}"
    return text


@register.simple_tag
def beijing_time_label() -> str:
    return _("Beijing time")


@register.simple_tag(takes_context=True)
def personal_join_link(context, session) -> str:
    """The signed-in visitor's personal join link for `session` (live/links.py), or "" when they have none: not
    registered, the session over, or an account a link never signs in (organisers and moderators)."""
    from live.links import link_expires_at, link_may_sign_in, link_url
    from live.models import Registration

    user = context.get("user")
    if user is None or not user.is_authenticated or timezone.now() >= link_expires_at(session):
        return ""
    registration = Registration.objects.active().filter(session=session, user=user).first()
    if registration is None or not link_may_sign_in(user, session):
        return ""
    registration.user = user
    return link_url(registration)
