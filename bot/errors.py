"""The bot's own errors: one base class, so that a caller can tell "the bot said no" (any
NewsbotError, whose str() is the reason in words) from a bug.

Each error is defined in the module that raises it and stays importable from there; this module
holds only the base class and the map::

    NewsbotError                          bot.errors
    ├── ConfigError                       bot.config   a setting is missing or wrong (exit 2)
    ├── ArticleError                      bot.articles a file or an entry in it cannot be read
    ├── ExtractionError                   bot.extract  no article text on a web page
    ├── FetchError                        bot.web      a fetch gave no usable answer
    ├── FeedError                         bot.feeds    not a feed we can read (in feeds/entries.py)
    ├── EntryRejected                     bot.feeds    a feed entry that never makes an article
    │                                                  (in feeds/records.py)
    ├── IndexRunError                      bot.index  an index run cannot start at all
    ├── EvaluationError                   bot.evaluate the evaluation data cannot be used
    ├── OpmlError                         bot.opml     a file that gives no feed list (not OPML,
    │                                                  too large, too many feeds, an XML bomb)
    ├── Refused (also a ValueError)       bot.news     a chat request that cannot be done as
    │                                                  asked; .reason is a RefusalReason
    ├── StoreUnavailable (also an         bot.store    a write the database did not take now
    │   sqlite3.OperationalError)                      (busy, locked, disk full): try later
    ├── DatabaseUnusable                  bot.store    the database file is gone, replaced or
    │                                                  damaged (bot.chat.errors: exit status 1)
    └── SearchTimeout                     bot.store    a search ran past its time limit

The store's errors are defined in bot/store/records.py. bot.chat.errors defines no exception
classes: it maps DatabaseUnusable and Telegram's InvalidToken to the bot stopping itself.
"""

from __future__ import annotations


class NewsbotError(Exception):
    """Something the bot refuses or cannot do, as opposed to a bug; str() says why."""
