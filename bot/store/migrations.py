"""The schema's history: named, ordered migrations, the same for both engines, recorded by each
(SQLite: PRAGMA user_version; PostgreSQL: the schema_migrations table).

Each migration is a name and its steps, run in order in one transaction (Store.migrate): a step
is an SQL statement, a Python callable given the connection for what SQL cannot compute, or,
where the engines need different SQL (the search index, a sequence), an Engines pair.

SQL statements are written for SQLite; on PostgreSQL their column types are read as what they
mean in SQLite (postgres_ddl): INTEGER is a 64-bit integer, REAL a double, an INTEGER PRIMARY KEY
an identity column.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from .. import stories
from . import story_bands
from .room import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Engines:
    """One step written for each engine."""

    sqlite: tuple[str, ...]
    postgresql: tuple[str | Callable[[Database], None], ...]


Step = str | Callable[[Database], None] | Engines
Migration = tuple[str, tuple[Step, ...]]


def _fill_url_keys(conn: Database) -> None:
    """0007_stories: each existing article's URL key (stories.url_key)."""
    rows = conn.execute("SELECT id, url FROM articles WHERE url IS NOT NULL")
    conn.executemany(
        "UPDATE articles SET url_key = ? WHERE id = ?",
        [(stories.url_key(r["url"]), r["id"]) for r in rows.fetchall()],
    )


def _unaccent(conn: Database) -> None:
    """Accents are ignored in search, as SQLite's remove_diacritics does, with PostgreSQL's
    unaccent extension where the server has it (Debian's and Docker's do); without it, an
    accent counts. The extension needs no superuser: it is a trusted one."""
    conn.execute("SAVEPOINT unaccent")
    try:
        conn.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    except Exception as exc:  # the extension is not installed on this server
        conn.execute("ROLLBACK TO unaccent")
        log.warning("search will tell accents apart: no unaccent extension (%s)", exc)
        mapping = "newsbot_stem"
    else:
        mapping = "unaccent, newsbot_stem"
    conn.execute("RELEASE unaccent")
    conn.execute(
        "ALTER TEXT SEARCH CONFIGURATION newsbot ALTER MAPPING FOR"
        f" asciiword, asciihword, hword_asciipart, word, hword, hword_part WITH {mapping}"
    )


# PostgreSQL's search index (in place of FTS5's): Porter's stemmer, as FTS5's porter tokenizer
# (PostgreSQL's "english" is Porter2, which stems "nearly" as "near": other results), and no
# stop word list (FTS5 keeps every word: "the" is a word a person may look for), accents
# folded, the title weighted A and the body B. The table keeps FTS5's name and columns, so the
# writes (insert, update, delete by rowid) are the same SQL on both engines. Words are what FTS5's
# unicode61 takes: runs of letters and digits, everything else a space (PostgreSQL's own parser
# reads URLs, e-mail addresses, "3.5" and HTML tags as tokens of their own, and after a
# "<script>" it skips the rest as markup). [:alnum:] knows every script's letters in a UTF-8
# database (the default locale of Debian's and Docker's servers). A tsvector holds at most
# 1 MB: the body's first 256 kB are indexed (about 40,000 words).
_POSTGRES_SEARCH = (
    "CREATE TEXT SEARCH DICTIONARY newsbot_stem (TEMPLATE = snowball, LANGUAGE = porter)",
    "CREATE TEXT SEARCH CONFIGURATION newsbot (COPY = simple)",
    _unaccent,
    """CREATE TABLE articles_fts (
        rowid BIGINT PRIMARY KEY,
        title TEXT NOT NULL,
        body TEXT NOT NULL,
        document tsvector GENERATED ALWAYS AS (
            setweight(to_tsvector('newsbot', regexp_replace(title, '[^[:alnum:]]+', ' ', 'g')), 'A')
            || setweight(to_tsvector('newsbot',
                regexp_replace(left(body, 262144), '[^[:alnum:]]+', ' ', 'g')), 'B')
        ) STORED
    )""",
    "CREATE INDEX articles_fts_document ON articles_fts USING gin (document)",
    # SQLite's instr(), which the /stats counts use.
    "CREATE FUNCTION instr(haystack TEXT, needle TEXT) RETURNS int4"
    " LANGUAGE sql IMMUTABLE STRICT AS 'SELECT strpos(haystack, needle)'",
)


# PostgreSQL counts a table row by row (7 ms at 100,000 articles, on every /latest): the
# articles and story heads per language are kept counted by a trigger instead. (SQLite counts
# a table in microseconds: nothing to keep there.)
_POSTGRES_COUNTS = (
    """CREATE TABLE article_counts (
        language TEXT PRIMARY KEY,
        articles BIGINT NOT NULL,
        heads BIGINT NOT NULL
    )""",
    """CREATE FUNCTION newsbot_count_articles() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('DELETE', 'UPDATE') THEN
            UPDATE article_counts SET articles = articles - 1,
                heads = heads - coalesce((OLD.story_id = OLD.id)::int, 0)
            WHERE language = coalesce(OLD.language, '');
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            INSERT INTO article_counts AS c (language, articles, heads)
            VALUES (coalesce(NEW.language, ''), 1, coalesce((NEW.story_id = NEW.id)::int, 0))
            ON CONFLICT (language) DO UPDATE
            SET articles = c.articles + 1, heads = c.heads + excluded.heads;
        END IF;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER articles_counted AFTER INSERT OR DELETE OR UPDATE OF story_id, language"
    " ON articles FOR EACH ROW EXECUTE FUNCTION newsbot_count_articles()",
    "INSERT INTO article_counts (language, articles, heads)"
    " SELECT coalesce(language, ''), count(*), count(*) FILTER (WHERE story_id = id)"
    " FROM articles GROUP BY 1",
)


MIGRATIONS: tuple[Migration, ...] = (
    (
        "0001_articles_summaries_search",
        (
            """CREATE TABLE files (
                path TEXT PRIMARY KEY,
                size INTEGER NOT NULL,
                mtime_ns INTEGER NOT NULL,
                sha256 TEXT NOT NULL,
                error TEXT,
                problems TEXT NOT NULL DEFAULT '[]'
            )""",
            """CREATE TABLE articles (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                key TEXT NOT NULL UNIQUE,
                source TEXT NOT NULL,
                title TEXT NOT NULL,
                blocks TEXT NOT NULL,
                published REAL NOT NULL,
                dated INTEGER NOT NULL,
                url TEXT,
                tags TEXT NOT NULL DEFAULT '[]',
                language TEXT,
                external_id TEXT,
                ordinal INTEGER NOT NULL,
                content_hash TEXT NOT NULL,
                fingerprint TEXT NOT NULL,
                added_at REAL NOT NULL,
                updated_at REAL NOT NULL
            )""",
            "CREATE INDEX articles_source ON articles (source)",
            "CREATE INDEX articles_newest ON articles (published DESC, id DESC)",
            """CREATE TABLE summaries (
                content_hash TEXT NOT NULL,
                algorithm TEXT NOT NULL,
                sentences INTEGER NOT NULL,
                language TEXT NOT NULL,
                summary TEXT NOT NULL,
                PRIMARY KEY (content_hash, algorithm, sentences, language)
            ) WITHOUT ROWID""",
            Engines(
                sqlite=(
                    """CREATE VIRTUAL TABLE articles_fts USING fts5 (
                        title, body, tokenize = 'porter unicode61 remove_diacritics 2'
                    )""",
                ),
                postgresql=_POSTGRES_SEARCH,
            ),
            """CREATE TABLE reloads (
                id INTEGER PRIMARY KEY,
                finished_at REAL NOT NULL,
                report TEXT NOT NULL
            )""",
        ),
    ),
    (
        # Search paging buttons carry a query id, not the query: callback_data holds 64 bytes.
        "0002_queries",
        (
            """CREATE TABLE queries (
                id INTEGER PRIMARY KEY,
                text TEXT NOT NULL UNIQUE,
                used_at REAL NOT NULL
            )""",
        ),
    ),
    (
        # Subscriptions and their delivery outbox: one row per (article, chat), written in the
        # transaction that adds the article, so a crash can lose or repeat nothing.
        "0003_subscriptions_outbox",
        (
            """CREATE TABLE chats (
                chat_id INTEGER PRIMARY KEY,
                kind TEXT NOT NULL,
                active INTEGER NOT NULL DEFAULT 1,
                inactive_reason TEXT,
                timezone TEXT NOT NULL DEFAULT 'UTC',
                digest_time TEXT,
                last_digest_at REAL,
                created_at REAL NOT NULL
            )""",
            """CREATE TABLE subscriptions (
                id INTEGER PRIMARY KEY,
                chat_id INTEGER NOT NULL REFERENCES chats (chat_id),
                query TEXT NOT NULL,
                created_at REAL NOT NULL,
                UNIQUE (chat_id, query)
            )""",
            """CREATE TABLE outbox (
                id INTEGER PRIMARY KEY,
                article_id INTEGER NOT NULL,
                chat_id INTEGER NOT NULL,
                status TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                not_before REAL NOT NULL DEFAULT 0,
                created_at REAL NOT NULL,
                sent_at REAL,
                message_id INTEGER,
                error TEXT,
                UNIQUE (article_id, chat_id)
            )""",
            "CREATE INDEX outbox_due ON outbox (status, not_before, id)",
            "CREATE INDEX outbox_chat ON outbox (chat_id, status)",
        ),
    ),
    (
        # Search breaks ties by date without reading whole article rows (see Store._search).
        "0004_search_tie_break_index",
        ("CREATE INDEX articles_id_published ON articles (id, published)",),
    ),
    (
        # Feeds: where each is at (conditional-request validators, failures, back-off) and the
        # entries already taken, so a poll brings exactly the new ones, across restarts too.
        "0005_feeds",
        (
            """CREATE TABLE feeds (
                name TEXT PRIMARY KEY,
                url TEXT NOT NULL UNIQUE,
                tags TEXT NOT NULL DEFAULT '[]',
                origin TEXT NOT NULL,
                active INTEGER NOT NULL DEFAULT 1,
                etag TEXT,
                last_modified TEXT,
                failures INTEGER NOT NULL DEFAULT 0,
                total_failures INTEGER NOT NULL DEFAULT 0,
                next_poll REAL NOT NULL DEFAULT 0,
                last_error TEXT,
                last_error_at REAL,
                last_ok_at REAL,
                entries INTEGER NOT NULL DEFAULT 0
            )""",
            """CREATE TABLE feed_entries (
                feed TEXT NOT NULL,
                key TEXT NOT NULL,
                url TEXT,
                path TEXT,
                seen_at REAL NOT NULL,
                PRIMARY KEY (feed, key)
            )""",
        ),
    ),
    (
        # /lang: a chat may narrow /latest and /search to one language.
        "0006_chat_language",
        (
            "ALTER TABLE chats ADD COLUMN language TEXT",
            "CREATE INDEX articles_language_newest ON articles (language, published DESC, id DESC)",
            "CREATE INDEX articles_id_published_language ON articles (id, published, language)",
        ),
    ),
    (
        # Stories: articles about one event from several sources share the first one's id
        # (stories.py says when). Existing articles each start their own story; their URL
        # keys are filled in by _fill_url_keys, which needs Python to compute them.
        "0007_stories",
        (
            "ALTER TABLE articles ADD COLUMN story_id INTEGER",
            "ALTER TABLE articles ADD COLUMN url_key TEXT",
            "UPDATE articles SET story_id = id",
            "CREATE INDEX articles_story ON articles (story_id)",
            "CREATE INDEX articles_url_key ON articles (url_key)",
            _fill_url_keys,
        ),
    ),
    ("0008_author", ("ALTER TABLE articles ADD COLUMN author TEXT",)),
    (
        # Near-duplicate candidates by equal hashes (stories.sketch) instead of a full-text
        # query per new article. Articles from before this have no sketch: URL matches only.
        "0009_story_sketches",
        (
            "CREATE TABLE story_sketch (hash INTEGER NOT NULL, article_id INTEGER NOT NULL)",
            "CREATE INDEX story_sketch_hash ON story_sketch (hash)",
            "CREATE INDEX story_sketch_article ON story_sketch (article_id)",
        ),
    ),
    (
        # /latest lists story heads (story_id = id): partial indexes keep the list an index
        # walk, and its count is all articles (SQLite counts a table in microseconds) less the
        # few that joined another's story (a small partial index). Counting the heads directly
        # scanned every row: /latest took 13 ms at 100,000 articles.
        "0010_story_heads",
        (
            "CREATE INDEX articles_heads_newest ON articles (published DESC, id DESC)"
            " WHERE story_id = id",
            "CREATE INDEX articles_heads_language ON articles (language, published DESC, id DESC)"
            " WHERE story_id = id",
            "CREATE INDEX articles_members ON articles (language) WHERE story_id != id",
        ),
    ),
    (
        # An entry whose page fails is tried again at the next polls, but not forever: its
        # failed attempts are counted, and an entry given up (or rejected, e.g. one with only
        # a title) is remembered as seen with its reason, so it is never fetched again and
        # /feeds can say why it is missing.
        "0011_feed_entry_attempts",
        (
            "ALTER TABLE feed_entries ADD COLUMN reason TEXT",
            """CREATE TABLE feed_attempts (
                feed TEXT NOT NULL,
                key TEXT NOT NULL,
                attempts INTEGER NOT NULL,
                last_error TEXT NOT NULL,
                last_at REAL NOT NULL,
                PRIMARY KEY (feed, key)
            )""",
        ),
    ),
    (
        # A search's paging buttons carry its id; ids count up, so a made-up press could show
        # another chat's search. Each query now belongs to the chat that searched. Queries
        # saved before had no chat: their buttons answer that they expired. Ids go on from the
        # old ones, so an old button never finds a new query of the same number.
        "0012_queries_by_chat",
        (
            "ALTER TABLE queries RENAME TO queries_without_chat",
            """CREATE TABLE queries (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                chat_id INTEGER NOT NULL,
                text TEXT NOT NULL,
                used_at REAL NOT NULL,
                UNIQUE (chat_id, text)
            )""",
            Engines(
                sqlite=(
                    "INSERT INTO sqlite_sequence (name, seq)"
                    " SELECT 'queries', coalesce(max(id), 0) FROM queries_without_chat",
                ),
                postgresql=(
                    "SELECT setval(pg_get_serial_sequence('queries', 'id'),"
                    " (SELECT coalesce(max(id), 0) + 1 FROM queries_without_chat), false)",
                ),
            ),
            "DROP TABLE queries_without_chat",
        ),
    ),
    (
        # Lists show article ids, which /read takes; people also type the place in the list
        # they saw ("/read 2"). The last list each chat saw, to tell the two apart.
        "0013_shown_lists",
        (
            """CREATE TABLE shown_lists (
                chat_id INTEGER PRIMARY KEY,
                ids TEXT NOT NULL,
                shown_at REAL NOT NULL
            )""",
        ),
    ),
    # An article's lead image (images.image_url), shown as its message's large preview.
    # Articles from before this have none until their file changes.
    ("0014_article_images", ("ALTER TABLE articles ADD COLUMN image TEXT",)),
    # /pictures off: a chat's articles come without their preview (on by default).
    ("0015_chat_pictures", ("ALTER TABLE chats ADD COLUMN pictures INTEGER NOT NULL DEFAULT 1",)),
    (
        # The bot speaks the chat's language: the one chosen with /language, else (for what
        # it sends on its own: deliveries, digests) the Telegram language of whoever set the
        # chat up.
        "0016_chat_ui_language",
        (
            "ALTER TABLE chats ADD COLUMN ui_language TEXT",
            "ALTER TABLE chats ADD COLUMN user_language TEXT",
        ),
    ),
    (
        # The /stats chart counts deliveries per day by outcome: a sent row has its sent_at, a
        # failed one had no time at all. Rows that failed before this get the last time known
        # of them: their last retry's (not_before), else when they were queued.
        "0017_outbox_times",
        (
            "ALTER TABLE outbox ADD COLUMN failed_at REAL",
            "UPDATE outbox SET failed_at = CASE WHEN created_at > not_before"
            " THEN created_at ELSE not_before END WHERE status = 'failed'",
        ),
    ),
    (
        # The /stats chart counts the articles added per day and source: from this index, only
        # the 30 days' entries are read (55 ms at 85,000 articles in them). Without it, every
        # row of every article ever added, whole texts and all: 155 to 300 ms at 100,000
        # articles, and growing with the history (bench/stats_chart.py).
        "0018_articles_added",
        ("CREATE INDEX articles_added ON articles (added_at, source)",),
    ),
    (
        # Telegram sends an update again when it did not get an answer in time (a webhook), and
        # a bot killed before confirming its last batch gets that batch again: each update id
        # is recorded here, and one seen already is not handled twice.
        "0019_updates_seen",
        (
            """CREATE TABLE updates_seen (
                update_id INTEGER PRIMARY KEY,
                seen_at REAL NOT NULL
            )""",
        ),
    ),
    ("0020_article_counts", (Engines(sqlite=(), postgresql=_POSTGRES_COUNTS),)),
    (
        # Near-duplicate candidates by LSH band keys (stories.bands) in place of the sketch's
        # hashes: the window of dates is a range of the index, so the rows read per new
        # article are those of articles within MAX_DAYS_APART days, not every article that
        # shares a common hash (939 rows an article at 50,000 articles, growing). The primary
        # key is that index; article_id's index serves the removals.
        "0021_story_bands",
        (
            """CREATE TABLE story_bands (
                band INTEGER NOT NULL,
                published REAL NOT NULL,
                article_id INTEGER NOT NULL,
                PRIMARY KEY (band, published, article_id)
            ) WITHOUT ROWID""",
            "CREATE INDEX story_bands_article ON story_bands (article_id)",
            story_bands.fill_bands,
            "DROP TABLE story_sketch",
        ),
    ),
    (
        # The band keys are random numbers: with them first in the key, a transaction's rows
        # fell on as many random pages of an index that grows with the library, each written
        # again at COMMIT (0.19 s for 2,000 new articles on an empty file, 1.88 s on 20,000).
        # Keyed by period (three days) first, a run's rows fall on the pages of their periods.
        "0022_story_bands_by_period",
        (
            """CREATE TABLE story_bands_by_period (
                period INTEGER NOT NULL,
                band INTEGER NOT NULL,
                published REAL NOT NULL,
                article_id INTEGER NOT NULL,
                PRIMARY KEY (period, band, published, article_id)
            ) WITHOUT ROWID""",
            story_bands.copy_by_period,
            "DROP TABLE story_bands",
            "ALTER TABLE story_bands_by_period RENAME TO story_bands",
            "CREATE INDEX story_bands_article ON story_bands (article_id)",
        ),
    ),
)


def run_step(conn: Database, step: Step, engine: str = "sqlite") -> None:
    """One step on `engine` ('sqlite' or 'postgresql')."""
    if isinstance(step, Engines):
        for part in step.sqlite if engine == "sqlite" else step.postgresql:
            run_step(conn, part, engine)
    elif isinstance(step, str):
        conn.execute(step if engine == "sqlite" else postgres_ddl(step))
    else:
        step(conn)


def postgres_ddl(sql: str) -> str:
    """A statement written for SQLite, with SQLite's column types said as PostgreSQL says them:
    an INTEGER PRIMARY KEY (SQLite's rowid: numbered when not given) is an identity column,
    INTEGER a 64-bit integer (chat ids need more than 32 bits), REAL a double (epoch seconds
    need more than a float's 24 bits). WITHOUT ROWID is SQLite's storage choice."""
    sql = re.sub(
        r"\bINTEGER PRIMARY KEY( AUTOINCREMENT)?",
        "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
        sql,
    )
    sql = re.sub(r"\bINTEGER\b", "BIGINT", sql)
    sql = re.sub(r"\bREAL\b", "DOUBLE PRECISION", sql)
    return sql.replace("WITHOUT ROWID", "")
