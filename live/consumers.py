"""The live room's WebSocket consumer (docs/live-protocol.md): thin — admit, parse and validate, call a service or
the group commit, answer with an ack or an error. Permissions are live.selectors' and live.services' business.

Two departures from a stock AsyncWebsocketConsumer, both for the room's scale (issue: live room at scale):
- no channel of its own: broadcasts reach the connection through its room hub (live/hub.py), which calls this
  connection's ASGI `send` directly with a text serialised once per event;
- `dispatch` skips Channels' per-message database clean-up: every database call here goes through
  `database_sync_to_async`, which does that clean-up in the thread that uses the connection.
"""
from __future__ import annotations

import asyncio
import hashlib
import inspect
import json
import logging
import time
import uuid
from urllib.parse import parse_qs

import channels
from channels.consumer import AsyncConsumer, get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from live import payloads, transport
from live.admission import JoinRequest, Joined, audience
from live.auth import SESSION_KEY_SCOPE, user_resolve
from live.batching import get_committer
from live.events import dumps
from live.history import get_history
from live.hub import CLOSE_RESYNC, Outlet, get_hub, local_hubs
from live.limits import CLOSE_BUSY, TokenBucket, gate
from live.selectors.room import CLOSE_NOT_FOUND, CLOSE_SERVER_ERROR, CLOSE_UNAUTHENTICATED, valid_id
from live.services import room as services
from live.services.room import ERROR_SERVER, RoomError

logger = logging.getLogger(__name__)

MAX_FRAME = 4096
ERROR_BAD_JSON = _("Malformed message: not a JSON object.")
ERROR_UNKNOWN_TYPE = _("Unknown message type.")
ERROR_INVALID_ID = _("Every command needs an id of 1 to 64 characters.")
ERROR_INVALID_FIELD = _("This field is missing or has the wrong type.")
ERROR_FRAME_TOO_LARGE = _("The message is too long.")
ERROR_TOO_FAST = _("Too many messages: slow down a little.")
ERROR_VOTE_RATE = _("You are voting too fast: wait a few seconds.")


# The Channels release whose AsyncConsumer.__call__ and dispatch the copies below follow, and digests of their
# source: with another release, or a patched one, the consumer runs Channels' own loop instead (slower, same
# protocol), and tests/live/test_framework_copies.py fails so that the copy is looked at again.
CHANNELS_TESTED = "4.3.2"
CHANNELS_SOURCES = {
    "__call__": "e52238720872dbc3f854519bc971aa7eb41553e63c8729081549ce42465ee419",
    "dispatch": "39f34e7d4fb0f6552de4ade665b943fe78137379702af6b58c79a14c49a75520",
}


def _source_digest(function) -> str:
    return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()


def channels_copy_matches() -> bool:
    return channels.__version__ == CHANNELS_TESTED and all(
        _source_digest(getattr(AsyncConsumer, name)) == digest for name, digest in CHANNELS_SOURCES.items())


CHANNELS_COPY_ENGAGED = channels_copy_matches()
if not CHANNELS_COPY_ENGAGED:
    logger.warning("live: Channels %s is not the %s the room's consumer loop was checked against; using Channels' "
                   "own loop", channels.__version__, CHANNELS_TESTED)


def _int(message: dict, name: str, *, nullable: bool = False):
    """An id field: an integer of 1 to 2**63-1 (what a database row can have), or null where allowed."""
    value = message.get(name)
    if value is None and nullable and name in message:
        return None
    if not valid_id(value):
        raise RoomError("invalid", ERROR_INVALID_FIELD, field=name)
    return value


def _bool(message: dict, name: str, default: bool | None = None) -> bool:
    value = message.get(name, default)
    if not isinstance(value, bool):
        raise RoomError("invalid", ERROR_INVALID_FIELD, field=name)
    return value


def _str(message: dict, name: str, default: str | None = None) -> str:
    value = message.get(name, default)
    if not isinstance(value, str):
        raise RoomError("invalid", ERROR_INVALID_FIELD, field=name)
    return value


class RoomOutlet(Outlet):
    """The room's outlet: the hub's Outlet, knowing its consumer, whose `reset_in_place` the hub calls when the
    room's history starts again (live/hub.py `RoomHub.restart`)."""

    __slots__ = ("owner",)


class RoomConsumer(AsyncWebsocketConsumer):
    session = None
    outlet: Outlet | None = None
    inbox = None  # the connection's ASGI `receive` while it joins (see `_client_left`)

    if CHANNELS_COPY_ENGAGED:
        async def __call__(self, scope, receive, send):
            # As AsyncConsumer.__call__ (channels.consumer, CHANNELS_TESTED), without a channel-layer channel per
            # connection (the hub has the room's one), with the connection's resources released however it ends,
            # and with its one `receive` awaited here: Channels' await_many_dispatch runs each receive in a task of
            # its own and waits on it with asyncio.wait, which an idle connection holds all the time (a task, a
            # future, their contexts and two more coroutines: about 1.5 KB per participant).
            self.scope = scope
            self.channel_layer = None
            self.base_send = send
            self.inbox = receive
            transport.lighten_receive(receive)
            try:
                while True:
                    await self.dispatch(await receive())
            except StopConsumer:
                pass
            finally:
                self._release()

        async def dispatch(self, message):
            # As AsyncConsumer.dispatch, without its per-message database clean-up (see the module's docstring).
            handler = getattr(self, get_handler_name(message), None)
            if handler is None:
                raise ValueError(f"No handler for message type {message['type']}")
            await handler(message)
    else:
        async def __call__(self, scope, receive, send):
            # Another Channels version than the copy above was checked against: Channels' own loop.
            try:
                await super().__call__(scope, receive, send)
            finally:
                self._release()

    # --- connecting -----------------------------------------------------------------------------------------
    async def connect(self):
        # Accepted at once: Daphne closes a handshake that is not accepted within its accept timeout, and a refusal
        # or a failure below is then told to the client with a close code it acts on (docs/live-protocol.md).
        # Over this process's bound on joins in flight (live/limits.py JoinGate), the connect is refused before
        # any work: 4503 with the time to come back (under Daphne, live/transport.py refuses most of them earlier).
        await self.accept()
        if not gate.take():
            await self.close(code=CLOSE_BUSY, reason=gate.refusal_reason())
            return
        try:
            await self._join()
        except Exception:  # noqa: BLE001 - whatever failed, the client hears a code it reconnects on
            logger.exception("live room %s: joining failed", getattr(self, "session_id", None))
            if self.outlet is not None:
                self.outlet.drop(CLOSE_SERVER_ERROR)
            else:
                await self._close_quietly(CLOSE_SERVER_ERROR)
        finally:
            gate.release()

    def _client_left(self) -> bool:
        """Has the client already gone? A connect is handled to its end (the join) before the next ASGI message is
        read, so a client that gave up meanwhile left a `websocket.disconnect` in the connection's input queue
        (Daphne's, or a test communicator's: an asyncio.Queue behind `receive`). False when that cannot be seen."""
        queue = getattr(self.inbox, "__self__", None)
        if type(queue) is not asyncio.Queue:
            return False
        return any(message.get("type") == "websocket.disconnect" for message in queue._queue)

    async def _close_quietly(self, code: int) -> None:
        try:
            await self.close(code=code)
        except Exception:  # noqa: BLE001 - the socket is already gone
            pass

    async def _join(self):
        """A join from the socket to the snapshot (docs/architecture.md walks through it):
        1. one item of the group commit (live/admission.py) looks the user up from the connection's session key
           (live/auth.py left it to the join), admits them by live.selectors.access's rules, reads the snapshot's
           parts and opens the attendance span: one thread hop and one transaction per batch of connects;
        2. the connection joins this process's room hub, then gets the snapshot (or the events it missed)."""
        self.session_id = session_id = int(self.scope["url_route"]["kwargs"]["session_id"])
        key = self.scope.get(SESSION_KEY_SCOPE)
        user = self.scope.get("user") if key is None else None
        if key is None and (user is None or not user.is_authenticated):
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if not valid_id(session_id):
            if key is not None:
                user = await user_resolve(self.scope, key)
            await self.close(code=CLOSE_NOT_FOUND if user.is_authenticated else CLOSE_UNAUTHENTICATED)
            return
        since, epoch = self._query()
        self.connection_id = uuid.uuid4().hex
        django_session = self.scope.get("session")
        outlet = RoomOutlet(self.base_send, user_id=0, moderator=False, on_close=self._dropped,
                            write=transport.writer_for(self.base_send),
                            session_key=getattr(django_session, "session_key", None))
        outlet.owner = self
        joined, position = await self._enter(user, key=key, connection=self.connection_id, snapshot=since is None,
                                             outlet=outlet)
        if joined.left:
            return
        if joined.undecided:  # a session the batch's look-up does not decide: Channels' own, then the batch again
            user = await user_resolve(self.scope, key, batched=False)
            if not user.is_authenticated:
                await self.close(code=CLOSE_UNAUTHENTICATED)
                return
            joined, position = await self._enter(user, connection=self.connection_id, snapshot=since is None,
                                                 outlet=outlet)
        if joined.left:
            return
        if joined.refusal:
            await self.close(code=joined.refusal)
            return
        if self._client_left():  # gone while its batch ran: nothing to send; its span closes now
            get_committer().leave(connection=self.connection_id)
            return
        self.__dict__.pop("inbox", None)  # not kept for the connection's life
        self.user = joined.user
        self.scope["user"]._wrapped = self.user
        self.session = joined.session
        self.moderator = outlet.moderator = joined.moderator
        outlet.user_id = self.user.pk
        self.flood = TokenBucket(50, 5.0)
        self.hub = get_hub(session_id)
        self.outlet = outlet
        await self.hub.join(outlet)
        await self._start_stream(joined, position, since, epoch)

    async def _enter(self, user, *, key: str | None = None, connection: str | None, snapshot: bool,
                     outlet) -> tuple[Joined, tuple]:
        """Admission and the snapshot's parts from the group commit, with what this process's hub has cached.
        Returns them with the room's (seq, epoch) from before they were read: the snapshot's position."""
        session_id = self.session_id
        hub = next((h for h in local_hubs() if h.session_id == session_id), None)  # none made for refused joins
        running = hub is not None and hub.started is not None and hub.started.done() and not hub.started.cancelled() \
            and hub.started.exception() is None
        position = (hub.last_seq, hub.epoch) if running else await get_history().peek(session_id)
        version = hub.version if running else None
        entrance = hub.entrance if hub is not None else None
        generation, asked = (entrance.generation if entrance else None), time.monotonic()
        request = JoinRequest(
            session_id=session_id, user=user, session_key=key, django_session=self.scope.get("session"),
            connection=connection, snapshot=snapshot, facts=entrance.current_facts() if entrance else None,
            shared=entrance.current_shared(version) if running and snapshot else {},
            left=self._client_left if self.inbox is not None else None)
        joined = await get_committer().enter(request, outlet=outlet)
        if joined.refusal is None and not joined.undecided:
            entrance = get_hub(session_id).entrance
            if request.fresh_facts is not None and generation in (None, entrance.generation):
                entrance.keep_facts(request.fresh_facts, generation=entrance.generation, read_at=asked)
            if joined.shared is not None and version is not None and hub.version == version:
                entrance.shared[audience(joined.moderator)] = (version, joined.shared)
        return joined, position

    def _query(self) -> tuple[int | None, str | None]:
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        since = query.get("since", [None])[0]
        epoch = query.get("epoch", [None])[0]
        try:
            since = int(since) if since is not None else None
        except ValueError:
            since = None
        return since, epoch

    async def _start_stream(self, joined: Joined, position: tuple, since: int | None, epoch: str | None) -> None:
        """Replay what the client missed (then `resumed`), or send a snapshot; then release the held events."""
        hub = self.hub
        if since is not None:
            entries = await get_history().since(self.session_id, since, epoch)
            if entries is not None and (not epoch or epoch == hub.epoch):  # (not: the history restarted meanwhile)
                for entry in entries:
                    await self.send(text_data=entry.text_for(self.moderator))
                last = entries[-1].seq if entries else since
                await self.send(text_data=dumps({"type": "resumed", "seq": last, "epoch": hub.epoch}))
                self.outlet.open(last)
                return
            # Too far behind (or another epoch): a snapshot after all, read while the hub holds the room's events.
            joined, position = await self._enter(self.user, connection=None, snapshot=True, outlet=self.outlet)
            if joined.refusal:
                self.outlet.drop(joined.refusal)
                return
        seq, seen_epoch = position
        last = hub.last_seq
        missed = []
        if seen_epoch is not None and seen_epoch != hub.epoch:
            await self._reset(self.outlet, in_place=False)  # the history started again meanwhile: read it again
            return
        if last > seq:  # events published while the snapshot was read, before the hub held them for this connection
            missed = await get_history().range(self.session_id, seq, last)
            if [entry.seq for entry in missed] != list(range(seq + 1, last + 1)):
                await self._reset(self.outlet, in_place=False)  # gone from the history: a snapshot read after them
                return
        await self.send(text_data=dumps({"type": "snapshot", "seq": seq, "epoch": hub.epoch,
                                         **self._snapshot(joined)}))
        for entry in missed:
            await self.send(text_data=entry.text_for(self.moderator))
        self.outlet.open(last)

    def reset_in_place(self) -> None:
        """The room's history started again (live/hub.py `RoomHub.restart`, which now holds this connection's
        events): send a fresh snapshot on the open socket instead of closing it."""
        asyncio.ensure_future(self._reset(self.outlet))

    async def _reset(self, outlet, *, in_place: bool = True) -> None:
        """A snapshot read now, sent before the events the outlet holds (those after its `seq`): in place (`reset`)
        when the room's history started again, or for a join whose first read the history's restart overtook."""
        hub = self.hub
        try:
            while True:
                restarts = hub.restarts
                joined, position = await self._enter(self.user, connection=None, snapshot=True, outlet=outlet)
                if outlet.closed or self.outlet is not outlet:
                    return
                if joined.refusal or joined.moderator != self.moderator:  # banned meanwhile, or another role
                    outlet.drop(joined.refusal or CLOSE_RESYNC)
                    return
                if hub.restarts == restarts:
                    break  # else: restarted again while the snapshot was read; read it again
            seq, _ = position
            text = dumps({"type": "snapshot", **({"reset": True} if in_place else {}), "seq": seq,
                          "epoch": hub.epoch, **self._snapshot(joined)})
        except Exception:  # noqa: BLE001 - the database or Redis away: the client reconnects for its snapshot
            logger.warning("live room %s: a snapshot in place failed", self.session_id, exc_info=True)
            outlet.drop(CLOSE_RESYNC)
            return
        # First the snapshot, then what the hub held back since the restart (events after `seq` only).
        outlet.joining.insert(0, (0, text))
        outlet.open(seq)

    def _snapshot(self, joined: Joined) -> dict:
        hub, shared, personal = self.hub, joined.shared, joined.personal
        poll = shared["poll"]
        if poll is not None:
            poll = {**poll, "my_choices": personal["my_choices"]}
        participants = hub.participants_sent if hub.participants_sent is not None else hub.participants_here()
        return {
            "role": "moderator" if self.moderator else "participant",
            "me": {"id": self.user.pk, "name": payloads.user_name(self.user)},
            "session": shared["session"],
            "topics": shared["topics"],
            "questions": personal["extra_questions"] + shared["questions"],
            "my_votes": personal["my_votes"],
            "my_questions": personal["my_questions"],
            "poll": poll,
            "announcements": shared["announcements"],
            "participants": participants,
            **({"question_counts": shared["question_counts"]} if self.moderator else {}),
        }

    def _dropped(self, code: int) -> None:
        """The hub gave up on this connection (ban, too slow, resync, rights changed): close it."""
        if self.outlet is not None:
            self.hub.leave(self.outlet)
        asyncio.ensure_future(self._close_quietly(code))

    def _release(self) -> None:
        """Leave the hub and close the attendance span: on disconnect, and however else the connection ends."""
        outlet, self.outlet = self.outlet, None
        if outlet is not None:
            outlet.closed = True
            self.hub.leave(outlet)
            get_committer().leave(connection=self.connection_id)

    async def disconnect(self, code):
        self._release()

    # --- commands -------------------------------------------------------------------------------------------
    async def _reply(self, message: dict) -> None:
        if self.outlet is not None and not self.outlet.closed:
            await self.send(text_data=dumps(message))

    async def _error(self, request_id, error: RoomError) -> None:
        with translation.override(settings.LANGUAGE_CODE):
            message = {"type": "error", "id": request_id, "code": error.code, "message": str(error.message)}
        if request_id is None:
            del message["id"]
        if error.field:
            message["field"] = error.field
        await self._reply(message)

    async def websocket_receive(self, message):
        # No input may end the connection: whatever a frame makes fail is answered, never raised.
        try:
            await super().websocket_receive(message)
        except Exception:  # noqa: BLE001
            logger.exception("live room %s: a frame could not be handled", self.session_id)
            try:
                await self._error(None, RoomError("server_error", ERROR_SERVER))
            except Exception:  # noqa: BLE001 - the socket is gone
                pass

    async def receive(self, text_data=None, bytes_data=None):
        if self.outlet is None:
            return
        if text_data is None or len(text_data) > MAX_FRAME:
            code = "bad_json" if text_data is None else "invalid"
            await self._error(None, RoomError(code, ERROR_BAD_JSON if text_data is None else ERROR_FRAME_TOO_LARGE))
            return
        try:
            message = json.loads(text_data)
        except (ValueError, RecursionError):  # RecursionError: deeply nested arrays or objects
            message = None
        if not isinstance(message, dict):
            await self._error(None, RoomError("bad_json", ERROR_BAD_JSON))
            return
        request_id = message.get("id")
        if not isinstance(request_id, str) or not 1 <= len(request_id) <= 64:
            await self._error(None, RoomError("invalid", ERROR_INVALID_ID, field="id"))
            return
        if not self.flood.take():
            await self._error(request_id, RoomError("rate_limited", ERROR_TOO_FAST))
            return
        kind = message.get("type")
        handler = COMMANDS.get(kind) if isinstance(kind, str) else None
        if handler is None:
            await self._error(request_id, RoomError("unknown_type", ERROR_UNKNOWN_TYPE, field="type"))
            return
        try:
            result = await handler(self, message)
        except RoomError as error:
            await self._error(request_id, error)
            return
        except Exception:
            logger.exception("live room %s: %s failed", self.session_id, kind)
            await self._error(request_id, RoomError("server_error", ERROR_SERVER))
            return
        await self._reply({"type": "ack", "id": request_id, **result})

    def _sync(self, function, **kwargs):
        return database_sync_to_async(function)(**kwargs)

    # Participants.
    async def cmd_ping(self, message):
        return {}

    async def cmd_question_ask(self, message):
        text = _str(message, "text")
        anonymous = _bool(message, "anonymous", False)

        def ask():
            question = services.question_ask(session=self.session, author=self.user, text=text, anonymous=anonymous)
            return {"question": payloads.question(question, moderator=True)}
        return await self._sync(ask)

    async def _vote(self, message, add: bool):
        question_id = _int(message, "question")
        if not self.hub.limits.take("vote", self.user.pk):
            raise RoomError("rate_limited", ERROR_VOTE_RATE)
        return await get_committer().vote(session_id=self.session_id, question_id=question_id,
                                          user_id=self.user.pk, add=add)

    async def cmd_question_vote(self, message):
        return await self._vote(message, True)

    async def cmd_question_unvote(self, message):
        return await self._vote(message, False)

    async def cmd_poll_answer(self, message):
        poll_id = _int(message, "poll")
        choices = message.get("choices")
        if (not isinstance(choices, list) or not choices or len(choices) > 10
                or not all(valid_id(c) for c in choices)):
            raise RoomError("invalid", ERROR_INVALID_FIELD, field="choices")
        if not self.hub.limits.take("poll", self.user.pk):
            raise RoomError("rate_limited", ERROR_VOTE_RATE)
        return await get_committer().answer(session_id=self.session_id, poll_id=poll_id, user_id=self.user.pk,
                                            choices=choices)

    # Moderators and hosts (the services check, every time).
    async def _moderate_question(self, service, message, **fields):
        question_id = _int(message, "question")

        def run():
            question = service(session=self.session, moderator=self.user, question_id=question_id, **fields)
            return {"question": payloads.question(question, moderator=True)}
        return await self._sync(run)

    async def cmd_question_approve(self, message):
        return await self._moderate_question(services.question_approve, message)

    async def cmd_question_dismiss(self, message):
        return await self._moderate_question(services.question_dismiss, message)

    async def cmd_question_answered(self, message):
        return await self._moderate_question(services.question_mark_answered, message)

    async def cmd_question_highlight(self, message):
        return await self._moderate_question(services.question_highlight, message,
                                             highlighted=_bool(message, "highlighted", True))

    async def cmd_question_reply(self, message):
        return await self._moderate_question(services.question_reply, message, text=_str(message, "text"))

    async def cmd_question_pin(self, message):
        return await self._moderate_question(services.question_pin, message, pinned=_bool(message, "pinned"))

    async def cmd_question_topic(self, message):
        return await self._moderate_question(services.question_set_topic, message,
                                             topic_id=_int(message, "topic", nullable=True))

    async def cmd_questions_list(self, message):
        status = _str(message, "status")
        before = _int(message, "before", nullable=True) if "before" in message else None
        limit = message.get("limit", 50)
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= services.QUEUE_PAGE_MAX:
            raise RoomError("invalid", ERROR_INVALID_FIELD, field="limit")
        search = _str(message, "search", "")

        def run():
            return services.moderator_questions_page(session=self.session, moderator=self.user, status=status,
                                                     before=before, limit=limit, search=search)
        return await self._sync(run)

    async def cmd_topic_set(self, message):
        topic_id = _int(message, "topic", nullable=True)

        def run():
            topic = services.topic_set(session=self.session, moderator=self.user, topic_id=topic_id)
            return {"topic": payloads.topic(topic)}
        return await self._sync(run)

    async def cmd_poll_open(self, message):
        question, kind = _str(message, "question"), _str(message, "kind")
        choices = message.get("choices")

        def run():
            poll = services.poll_open(session=self.session, moderator=self.user, question=question, kind=kind,
                                      choices=choices)
            return {"poll": payloads.poll(poll)}
        return await self._sync(run)

    async def cmd_poll_close(self, message):
        poll_id = _int(message, "poll")

        def run():
            poll = services.poll_close(session=self.session, moderator=self.user, poll_id=poll_id)
            return {"poll": payloads.poll(poll)}
        return await self._sync(run)

    async def cmd_announce(self, message):
        text = _str(message, "text")

        def run():
            announcement = services.announcement_create(session=self.session, author=self.user, text=text)
            return {"announcement": payloads.announcement(announcement)}
        return await self._sync(run)

    async def cmd_user_ban(self, message):
        user_id = _int(message, "user")
        reason = _str(message, "reason", "")

        def run():
            services.room_user_ban(session=self.session, moderator=self.user, user_id=user_id, reason=reason)
            return {"user": user_id}
        return await self._sync(run)

    async def cmd_session_status(self, message):
        status = _str(message, "status")

        def run():
            return {"status": services.session_status_set(session=self.session, moderator=self.user, status=status)}
        return await self._sync(run)


COMMANDS = {
    "ping": RoomConsumer.cmd_ping,
    "question.ask": RoomConsumer.cmd_question_ask,
    "question.vote": RoomConsumer.cmd_question_vote,
    "question.unvote": RoomConsumer.cmd_question_unvote,
    "poll.answer": RoomConsumer.cmd_poll_answer,
    "question.approve": RoomConsumer.cmd_question_approve,
    "question.dismiss": RoomConsumer.cmd_question_dismiss,
    "question.answered": RoomConsumer.cmd_question_answered,
    "question.highlight": RoomConsumer.cmd_question_highlight,
    "question.reply": RoomConsumer.cmd_question_reply,
    "question.pin": RoomConsumer.cmd_question_pin,
    "question.topic": RoomConsumer.cmd_question_topic,
    "questions.list": RoomConsumer.cmd_questions_list,
    "topic.set": RoomConsumer.cmd_topic_set,
    "poll.open": RoomConsumer.cmd_poll_open,
    "poll.close": RoomConsumer.cmd_poll_close,
    "announce": RoomConsumer.cmd_announce,
    "user.ban": RoomConsumer.cmd_user_ban,
    "session.status": RoomConsumer.cmd_session_status,
}
