"""Several `python -m bot run --webhook` processes on one PostgreSQL database, end to end: each
answers what is posted to it, an update posted twice is handled once, one leader sends (within
Telegram's limits, which hold per bot), and when the leader is killed with SIGKILL in the middle
of a broadcast another process takes over and every subscriber gets the article, a repeat at
most for the one message per chat that was in flight."""

from __future__ import annotations

import socket
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from . import postgres as postgres_server
from .conftest import story
from .fake_bot_api import FakeBotApi, post_update
from .test_run import ADMIN_ID, START_WITHIN, TOKEN, BotProcess, bot_env, write_articles

SECRET = "replica-secret_1"
SUBSCRIBERS = 30
TAKEOVER_WITHIN = 60.0  # the promise; the lease is checked every 5 s


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Replica:
    def __init__(self, process: BotProcess, port: int) -> None:
        self.process = process
        self.port = port

    def post(self, update: dict[str, Any]) -> int:
        # (The server may still be starting: its start-up index run.)
        try:
            return post_update(f"http://127.0.0.1:{self.port}/hook", update, SECRET)
        except ConnectionError as exc:
            raise AssertionError(f"{exc}; output:\n{self.process.output}") from None

    @property
    def leads(self) -> bool:
        return "this process leads" in self.process.output


def _webhooks_set(api: FakeBotApi, count: int) -> Callable[[], bool]:
    return lambda: len(api.calls("setWebhook")) >= count


@pytest.fixture
def api() -> Any:
    with FakeBotApi(TOKEN) as fake:
        yield fake


def test_two_processes_answer_once_and_a_killed_leader_is_followed_within_a_minute(
    api: FakeBotApi, postgres: postgres_server.Databases, tmp_path: Path
) -> None:
    url = postgres.fresh()
    articles = write_articles(tmp_path / "articles")
    config = tmp_path / "newsbot.toml"
    # Slower than Telegram's 30 a second, so that the kill lands in the middle of the broadcast.
    config.write_text("[delivery]\nmax_per_second = 10\n")
    replicas: list[Replica] = []
    try:
        for n in range(2):
            port = _port()
            env = {
                **bot_env(api, articles, Path("unused")),
                "NEWSBOT_DATABASE": url,
                "NEWSBOT_CONFIG": str(config),
                "NEWSBOT_WEBHOOK_URL": "http://127.0.0.1:8443/hook",  # the proxy's, say
                "NEWSBOT_WEBHOOK_LISTEN": "127.0.0.1",
                "NEWSBOT_WEBHOOK_PORT": str(port),
                "NEWSBOT_WEBHOOK_SECRET": SECRET,
            }
            process = BotProcess(api, env, tmp_path / f"replica-{n}.log", ["run", "--webhook"])
            replicas.append(Replica(process.start(wait=False), port))
            assert api.wait_for(_webhooks_set(api, n + 1), START_WITHIN)
        first, second = replicas

        # Subscribers, half through each process; then an update Telegram posts again, to the
        # other process: answered once.
        users = [9_100_001 + i for i in range(SUBSCRIBERS)]
        for i, user in enumerate(users):
            assert replicas[i % 2].post(api.webhook_update("/subscribe", user_id=user)) == 200
        assert api.wait_for(
            lambda: all(
                any("Subscribed" in c.text for c in api.replies_to(u) if c.ok) for u in users
            ),
            30,
        )
        again = api.webhook_update("/help", user_id=9_199_999)
        assert first.post(again) == second.post(again) == 200
        assert api.wait_for(lambda: api.replies_to(9_199_999), 10)
        time.sleep(1.0)  # (a second answer would come in this time: none may)
        assert len([c for c in api.replies_to(9_199_999) if "What I can do" in c.text]) == 1

        # One leader: the other process has not said it leads.
        assert api.wait_for(lambda: first.leads or second.leads, 30)
        leader, follower = (first, second) if first.leads else (second, first)
        assert not follower.leads

        # A new article, reloaded by the admin through the follower: the leader sends it.
        title = "Night ferry added for the winter timetable"
        (articles / "night-ferry.txt").write_text(
            story(title, "A night ferry will run on weekends.", "Tickets go on sale today."),
            encoding="utf-8",
        )
        assert follower.post(api.webhook_update("/reload", user_id=ADMIN_ID)) == 200

        def got() -> Counter[int]:
            return Counter(
                c.chat_id
                for c in api.calls("sendMessage")
                if c.ok and c.chat_id in users and title in c.text
            )

        assert api.wait_for(lambda: sum(got().values()) >= 5, 60), leader.process.output
        leader.process.kill()  # SIGKILL, mid-broadcast
        killed_at, sent_before = time.monotonic(), sum(got().values())
        assert sent_before < SUBSCRIBERS, "the broadcast ended before the kill: slow it down"

        assert api.wait_for(lambda: sum(got().values()) > sent_before, TAKEOVER_WITHIN), (
            follower.process.output
        )
        took_over = time.monotonic() - killed_at
        assert api.wait_for(lambda: set(got()) == set(users), 60), got()
        counts = got()
        # Every subscriber got it; a repeat only where a message was in flight at the kill.
        assert set(counts.values()) <= {1, 2}
        assert sum(1 for n in counts.values() if n == 2) <= 10, counts
        assert took_over <= TAKEOVER_WITHIN
        assert follower.leads
        print(f"takeover after {took_over:.1f} s; repeats: {sum(counts.values()) - SUBSCRIBERS}")
        assert follower.process.terminate() == 0, follower.process.output
        # A process that stops leaves the webhook to the others (no deleteWebhook).
        assert not api.calls("deleteWebhook")
    finally:
        for replica in replicas:
            replica.process.kill()
        postgres.drop(url)
