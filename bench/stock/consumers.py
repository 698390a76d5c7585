"""A stock Channels consumer for the live room's broadcast and vote paths (the baseline, not our design).

Written as the Channels tutorial writes a chat room: `group_add` on connect, a handler that `send_json`s each group
message, `group_send` through channels_redis's core layer, and database writes through `database_sync_to_async`.
It speaks the subset of docs/live-protocol.md that bench/live_load.py uses: a snapshot, `question.approve` (for
moderators) broadcasting `question.approved` with a seq and the server's accept time, and `question.vote`.
"""
import itertools
import time

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.db import IntegrityError, transaction
from django.db.models import F

from live.models import Question, Vote

# One moderator drives a benchmark, so one process numbers its broadcasts: seq 1, 2, 3 …
_seq = itertools.count(1)


def question_payload(q) -> dict:
    return {
        "id": q.pk, "text": q.text, "author": {"id": q.author_id, "name": q.author.real_name or q.author.username},
        "anonymous": q.anonymous, "status": q.status, "highlighted": q.highlighted, "pinned": q.pinned,
        "topic": q.topic_id, "reply": q.reply or None, "replied_by": None, "votes": q.vote_count,
        "created": int(q.created_at.timestamp() * 1000),
    }


class StockRoomConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope["user"]
        if not user.is_authenticated:
            await self.close()
            return
        self.group_name = f"stock-session-{int(self.scope['url_route']['kwargs']['session'])}"
        await self.channel_layer.group_add(self.group_name, self.channel_name)
        await self.accept()
        await self.send_json({"type": "snapshot", "seq": 0})

    async def disconnect(self, code):
        if hasattr(self, "group_name"):
            await self.channel_layer.group_discard(self.group_name, self.channel_name)

    async def receive_json(self, content, **kwargs):
        kind, request_id = content.get("type"), content.get("id")
        if kind == "question.vote":
            counted, votes = await self.vote(content["question"])
            await self.send_json({"type": "ack", "id": request_id, "counted": counted, "votes": votes})
        elif kind == "question.approve":
            ts = time.time_ns() // 1_000_000
            question = await self.approve(content["question"])
            await self.channel_layer.group_send(self.group_name, {
                "type": "room.event",
                "event": {"type": "event", "seq": next(_seq), "ts": ts, "name": "question.approved",
                          "data": {"question": question}},
            })
            await self.send_json({"type": "ack", "id": request_id, "question": question})
        else:
            await self.send_json({"type": "error", "id": request_id, "code": "unknown_type", "message": "未知的消息类型。"})

    async def room_event(self, message):
        await self.send_json(message["event"])

    @database_sync_to_async
    def approve(self, question_id):
        Question.objects.filter(pk=question_id).update(status=Question.Status.APPROVED)
        return question_payload(Question.objects.select_related("author").get(pk=question_id))

    @database_sync_to_async
    def vote(self, question_id):
        try:
            with transaction.atomic():
                Vote.objects.create(question_id=question_id, user=self.scope["user"])
                Question.objects.filter(pk=question_id).update(vote_count=F("vote_count") + 1)
            counted = True
        except IntegrityError:
            counted = False
        return counted, Question.objects.values_list("vote_count", flat=True).get(pk=question_id)
