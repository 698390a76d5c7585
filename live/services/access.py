"""Bans: removing a user from one session's room."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from live.models import Ban, LiveSessionPage

ERROR_ALREADY_BANNED = _("This user is already banned from this session.")
ERROR_CANNOT_BAN_SELF = _("You cannot ban yourself.")


def ban_create(*, session: LiveSessionPage, user, by, reason: str = "") -> Ban:
    """Ban `user` from `session`'s room. The room's author disconnects them (live.events); this only records it."""
    if by is not None and by.pk == user.pk:
        raise ValidationError(ERROR_CANNOT_BAN_SELF)
    ban = Ban(session=session, user=user, by=by, reason=(reason or "")[:200])
    ban.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            ban.save()
    except IntegrityError:
        raise ValidationError(ERROR_ALREADY_BANNED) from None
    return ban
