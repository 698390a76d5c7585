"""Rights change, connections follow: when a user signs out, changes their password, is deactivated, or loses a
moderator's role, their open room connections in every process are closed within a moment.

The facts live elsewhere (Django's auth, the Moderators group, a session's moderators), so this module listens to
their signals and publishes a `live.kick` control message through the room's one event path (live/events.py) to
each room the user is in now (their open attendance spans say which). Each process's hub closes the matching
connections (live/hub.py `RoomHub.kick`):
- signed out: the connections of that browser session only, with 4401 (the client stops and offers to log in);
- password changed or account deactivated: all of the user's connections, with 4412; reconnecting authenticates
  afresh, so browser sessions whose password hash no longer matches (Django's session verification) get 4401;
- moderator role lost (removed from a group, a permission taken from them or from their group, or no longer named
  on the session): the user's moderator connections, with 4412; reconnecting gives the participant's stream.
"""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import m2m_changed, post_delete, post_save

from live import events
from live.models import AttendanceSpan, SessionModerator
from live.selectors.room import CLOSE_RIGHTS_CHANGED, CLOSE_UNAUTHENTICATED


def rooms_of(user_id: int) -> list[int]:
    """The sessions whose rooms `user_id` is connected to now (in any process)."""
    return list(AttendanceSpan.objects.filter(user_id=user_id, left_at__isnull=True)
                .values_list("session_id", flat=True).distinct())


def user_connections_close(*, user_id: int, code: int = CLOSE_RIGHTS_CHANGED, session_key: str | None = None,
                           moderators_only: bool = False, session_ids=None) -> int:
    """Close `user_id`'s room connections everywhere (after the current transaction commits); returns the rooms."""
    rooms = rooms_of(user_id) if session_ids is None else list(session_ids)
    for session_id in rooms:
        events.kick(session_id=session_id, user_id=user_id, code=code, session_key=session_key,
                    moderators_only=moderators_only)
    return len(rooms)


def users_moderator_streams_close(user_ids) -> int:
    """The moderator connections of many users (a group lost a permission): one query for where they are."""
    pairs = set(AttendanceSpan.objects.filter(user_id__in=list(user_ids), left_at__isnull=True)
                .values_list("user_id", "session_id"))
    for user_id, session_id in pairs:
        events.kick(session_id=session_id, user_id=user_id, code=CLOSE_RIGHTS_CHANGED, moderators_only=True)
    return len(pairs)


def _logged_out(sender, request, user, **kwargs):
    if user is None or not getattr(user, "pk", None):
        return
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    user_connections_close(user_id=user.pk, code=CLOSE_UNAUTHENTICATED, session_key=session_key)


def _user_saved(sender, instance, created, update_fields=None, **kwargs):
    if created:
        return
    fields = set(update_fields) if update_fields is not None else None
    password_changed = getattr(instance, "_password", None) is not None and (fields is None or "password" in fields)
    deactivated = not instance.is_active and (fields is None or "is_active" in fields)
    if password_changed or deactivated:
        user_connections_close(user_id=instance.pk)


def _roles_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """Groups or permissions taken from users (or users taken from a group): their moderator streams end."""
    if action not in ("post_remove", "post_clear", "pre_clear"):
        return
    if not reverse:
        if action == "pre_clear":
            return
        users = [instance.pk]
    elif action == "pre_clear":
        users = list(instance.user_set.values_list("pk", flat=True)) if hasattr(instance, "user_set") else []
    elif action == "post_clear":
        return
    else:
        users = list(pk_set or ())
    users_moderator_streams_close(users)


def _group_permissions_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """Permissions taken from a group: its members' moderator streams end (they reconnect with what is left)."""
    if action not in ("post_remove", "pre_clear"):
        return
    from django.contrib.auth.models import Group

    if not reverse:
        groups = [instance.pk]
    elif action == "post_remove":
        groups = list(pk_set or ())
    else:
        groups = list(instance.group_set.values_list("pk", flat=True))
    members = get_user_model()._default_manager.filter(groups__in=Group.objects.filter(pk__in=groups))
    users_moderator_streams_close(members.values_list("pk", flat=True).distinct())


def _moderator_removed(sender, instance, **kwargs):
    user_connections_close(user_id=instance.user_id, moderators_only=True, session_ids=[instance.page_id])


def connect_signals() -> None:
    User = get_user_model()
    user_logged_out.connect(_logged_out, dispatch_uid="live.rights.logged_out")
    post_save.connect(_user_saved, sender=User, dispatch_uid="live.rights.user_saved")
    m2m_changed.connect(_roles_changed, sender=User.groups.through, dispatch_uid="live.rights.groups")
    m2m_changed.connect(_roles_changed, sender=User.user_permissions.through, dispatch_uid="live.rights.perms")
    post_delete.connect(_moderator_removed, sender=SessionModerator, dispatch_uid="live.rights.moderator")
    from django.contrib.auth.models import Group

    m2m_changed.connect(_group_permissions_changed, sender=Group.permissions.through,
                        dispatch_uid="live.rights.group_permissions")
