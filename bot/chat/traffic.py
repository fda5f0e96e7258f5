"""Updates in, fairly: many at once, each person's in the order sent, and floods held back.

PTB hands every update to an update processor (`ApplicationBuilder.concurrent_updates`). This
one, FairUpdateProcessor:

- runs up to `max_concurrent_updates` updates at once, so that one chat's slow answer (a search,
  a summary being made) never holds up another chat's;
- keeps one person's updates in one chat in the order they came: "/subscribe x" then
  "/unsubscribe x" must not swap places;
- asks a FloodGate first: a token bucket per person (`messages` at once, refilled over
  `seconds`). The first update over the limit gets one notice; everything else that person
  sends is dropped unanswered until the bucket has refilled. Admins are held to it too.

The gate runs before an update waits for its turn in its chat, so a flood costs a dictionary
look-up per update, never a place in the queue ahead of other people's messages.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Hashable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

log = logging.getLogger(__name__)

# PTB's own default for concurrent updates.
MAX_CONCURRENT_UPDATES = 256


class Verdict(enum.Enum):
    PASS = "pass"
    NOTIFY = "notify"  # the first update over the limit: say so, once
    DROP = "drop"


@dataclass
class _Bucket:
    tokens: float
    stamp: float
    held: bool = False  # over the limit: dropping until the bucket is full again


class FloodGate:
    """A token bucket per sender: `messages` at once, refilled at `messages` per `seconds`."""

    def __init__(
        self, *, messages: int, seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.capacity = float(messages)
        self.seconds = seconds
        self.rate = messages / seconds
        self.clock = clock
        self._buckets: dict[Hashable, _Bucket] = {}
        self._next_sweep = 0.0

    def admit(self, sender: Hashable) -> Verdict:
        now = self.clock()
        self._sweep(now)
        bucket = self._buckets.get(sender)
        if bucket is None:
            bucket = self._buckets[sender] = _Bucket(self.capacity, now)
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.stamp) * self.rate)
        bucket.stamp = now
        if bucket.held and bucket.tokens >= self.capacity:
            bucket.held = False
        if not bucket.held and bucket.tokens >= 1:
            bucket.tokens -= 1
            return Verdict.PASS
        if bucket.held:
            return Verdict.DROP
        bucket.held = True
        return Verdict.NOTIFY

    def _sweep(self, now: float) -> None:
        """Forget the buckets of senders not seen for `seconds`: theirs are full again."""
        if now < self._next_sweep:
            return
        self._next_sweep = now + self.seconds
        self._buckets = {
            sender: bucket
            for sender, bucket in self._buckets.items()
            if now - bucket.stamp < self.seconds
        }


def sender_of(update: object) -> Hashable | None:
    """Whose bucket an update counts against: its user; a message sent as a chat (anonymous
    group admins, channels: Telegram gives them all one user id) counts against that chat.
    Inline queries come with each key pressed, so they have a bucket of their own. Updates
    nobody sent to the bot (membership changes) are not counted."""
    if not isinstance(update, Update):
        return None
    if update.inline_query:
        return ("inline", update.inline_query.from_user.id)
    message = update.message or update.edited_message
    if message is not None and message.sender_chat is not None:
        return ("chat", message.sender_chat.id)
    if message is None and update.callback_query is None:
        return None
    user = update.effective_user
    return ("user", user.id) if user else None


def turn_of(update: object) -> Hashable | None:
    """Updates with the same turn are handled one after another, in order: one person's in one
    chat (an inline query has no chat)."""
    if not isinstance(update, Update):
        return None
    chat, user = update.effective_chat, update.effective_user
    if chat is None and user is None:
        return None
    return (chat.id if chat else None, user.id if user else None)


@dataclass
class _Turn:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    waiting: int = 0


class FairUpdateProcessor(BaseUpdateProcessor):
    """Concurrent updates, in order per person and chat, behind a FloodGate (see above).
    `notify` sends the flood notice for the update that went over the limit."""

    def __init__(
        self,
        gate: FloodGate,
        notify: Callable[[Update], Awaitable[None]],
        *,
        max_concurrent_updates: int = MAX_CONCURRENT_UPDATES,
    ) -> None:
        super().__init__(max_concurrent_updates)
        self.gate = gate
        self._notify = notify
        self._turns: dict[Hashable, _Turn] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        sender = sender_of(update)
        verdict = self.gate.admit(sender) if sender is not None else Verdict.PASS
        if verdict is not Verdict.PASS:
            if isinstance(coroutine, Coroutine):
                coroutine.close()  # never started: no "never awaited" warning
            if verdict is Verdict.NOTIFY and isinstance(update, Update):
                await self._flood_notice(sender, update)
            return
        key = turn_of(update)
        if key is None:
            await coroutine
            return
        async with self._turn(key):
            await coroutine

    async def _flood_notice(self, sender: Hashable, update: Update) -> None:
        log.warning(
            "%s sent over %d updates in %g s: answering once, then dropping until it slows",
            sender,
            int(self.gate.capacity),
            self.gate.seconds,
        )
        try:
            await self._notify(update)
        except Exception:  # the notice is a courtesy: a failure to send it changes nothing
            log.warning("could not send the flood notice to %s", sender, exc_info=True)

    @asynccontextmanager
    async def _turn(self, key: Hashable) -> AsyncIterator[None]:
        turn = self._turns.get(key)
        if turn is None:
            turn = self._turns[key] = _Turn()
        turn.waiting += 1
        try:
            async with turn.lock:
                yield
        finally:
            turn.waiting -= 1
            if not turn.waiting:
                del self._turns[key]

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None
