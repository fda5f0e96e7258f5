"""Every sentence the bot says, in one place (HTML; {placeholders} are filled escaped)."""

from __future__ import annotations

# The command menu: (command, description), in the order Telegram shows them.
COMMANDS = (
    ("latest", "Newest articles"),
    ("search", "Search articles: /search election"),
    ("read", "Read an article: /read 42"),
    ("subscribe", "Get new articles: all, or /subscribe climate"),
    ("subscriptions", "Your subscriptions, to remove one"),
    ("unsubscribe", "Stop: /unsubscribe climate, or all"),
    ("digest", "One message a day: /digest 08:00, or off"),
    ("timezone", "Your time zone: /timezone Europe/Berlin"),
    ("lang", "Only one language: /lang de, or /lang off"),
    ("help", "What I can do"),
    ("start", "Start over"),
)
ADMIN_COMMANDS = (
    ("reload", "Re-read the articles folder"),
    ("stats", "Articles, subscribers, deliveries, feeds"),
    ("feeds", "The feeds I read, and how each is doing"),
    ("addfeed", "Read a feed: /addfeed https://example.org/rss"),
    ("removefeed", "Stop reading a feed: /removefeed name"),
)

START = (
    "👋 I summarize the news: each article in a few of its own sentences.\n\n"
    "{headlines}"
    "Send /latest for the newest articles, /search with a few words to find one, or just type"
    " words here to search. /help lists everything."
)
START_HEADLINES = "<b>Newest</b>\n{lines}\n\n"
START_EMPTY = "There are no articles yet.\n\n"

HELP = (
    "<b>What I can do</b>\n\n"
    "/latest — the newest articles; /latest 10 shows ten at a time\n"
    "/read 42 — article 42: headline, summary, date and source; /read 42 6 gives six"
    " sentences\n"
    "/search election — articles about the election, best first\n"
    '/search "prime minister" -budget — an exact phrase, without a word\n'
    "Plain words in this chat search too.\n"
    "/lang de — only articles in German in /latest and /search; /lang off for all\n\n"
    "In any chat, type @{bot} and a few words to share an article.\n"
    "Buttons under a message page through it in place."
)
HELP_ADMIN = (
    "\n\n<b>Admins</b>\n/reload — re-read the articles folder and report what changed\n"
    "/stats — articles, subscribed chats, deliveries, feeds\n"
    "/feeds — the RSS and Atom feeds I read, with their last problem\n"
    "/addfeed https://example.org/rss [name] — read a feed (polled every {minutes:g} min)\n"
    "/removefeed name — stop reading one (its articles stay)"
)

LATEST_TITLE = "<b>Latest news</b> ({first}–{last} of {total})"
LATEST_EMPTY = "There are no articles yet. Ask an admin to add some and /reload."
LATEST_BAD_COUNT = "Send /latest, or /latest 10 for ten at a time (1 to {max})."

READ_NO_ID = "Which article? Send /read and its number, like /read 42. Numbers are in /latest."
READ_NOT_A_NUMBER = (
    "“{text}” is not an article number. Send /read and a number, like /read 42;"
    " to look for words, use /search {text}."
)
READ_UNKNOWN = "There is no article {id} (it may have been removed). See /latest for what there is."
READ_BAD_SENTENCES = "Send /read {id} and a number of sentences from 1 to {max}, like /read {id} 5."
ARTICLE_GONE = "This article is no longer available."
STALE_BUTTON = "This button is out of date. Send /latest to start again."

SEARCH_ASK = "What should I look for? Send /search and a few words, like /search election."
SEARCH_NONE = (
    "Nothing found for “{query}”. Try fewer or other words, a word’s beginning with *"
    " (like elect*), or see /latest."
)
# Also the answer to a button of another chat's search: whether it exists is not told.
SEARCH_EXPIRED = "This button has expired; search again."
SEARCH_TOO_SLOW = "That search took too long; try fewer words."
SEARCH_TITLE = "🔎 <b>{query}</b> ({first}–{last} of {total})"
SEARCH_RELAXED = "<i>No article has all those words; these have some of them.</i>"

FULL_TEXT_TITLE = "<b>{title}</b> — page {page} of {pages}"

UNKNOWN_COMMAND = "I don’t know {command}. /help lists what I can do."
NOT_TEXT = "I read text only. Send /latest, /search with a few words, or /help."

RELOAD_STARTED = "Re-reading the articles folder…"
RELOAD_REPORT = (
    "<b>Reload done</b> in {seconds:.1f} s: {added} added, {updated} updated,"
    " {removed} removed, {unchanged} unchanged, {failed} failed; {queued} deliveries queued."
)
RELOAD_FAILED_LINE = "• {path}: {error}"
RELOAD_MORE_FAILED = "…and {count} more."
RELOAD_ERROR = "The reload could not run: {error}"

ADMINS_ONLY = "Sorry, only the bot’s admins can do that."
STATS = (
    "<b>Stats</b>\n"
    "Articles: {articles}\n"
    "Subscribed chats: {chats}\n"
    "Deliveries: {sent} sent, {queued} queued, {held} held for digests, {failed} failed,"
    " {dropped} dropped\n"
    "Last reload: {last_reload}"
)
STATS_FEEDS = "\nFeeds: {count} ({failing} failing)"
STATS_FEED_FAILING = "\n• {name}: {error} ({failures} in a row)"
STATS_FEED_NOTE = "\n• {name}: last problem {error}"
STATS_NEVER = "never"

FEEDS_NONE = "I read no feeds. Add one: /addfeed https://example.org/rss"
FEEDS_TITLE = "<b>Feeds</b> ({count})"
FEED_LINE = "\n\n<b>{name}</b> — {url}\n{status}"
FEED_OK = "✅ {entries} entries taken; last read {when}"
FEED_NEVER = "⏳ not read yet"
FEED_FAILING = "⚠️ failing {failures} times in a row: {error}; next try {next}"
FEED_NOTE = "\nLast problem: {error}"
ADDFEED_USAGE = (
    "Send /addfeed and the feed’s address, like /addfeed https://example.org/rss"
    " (a name may follow)."
)
ADDFEED_BAD = "I can’t read that address: {reason}."
ADDFEED_TAKEN = "Not added: {reason}. /feeds lists them."
ADDFEED_DONE = "Added <b>{name}</b>. Reading it now…"
ADDFEED_RESULT = "<b>{name}</b>: {new} new {articles}."
ADDFEED_FAILED = (
    "<b>{name}</b> did not answer as a feed: {error}. I will try again later;"
    " /removefeed {name} to drop it."
)
REMOVEFEED_USAGE = "Which feed? Send /removefeed and its name, as /feeds shows it."
REMOVEFEED_UNKNOWN = "There is no feed called “{name}”. /feeds lists them."
REMOVEFEED_DONE = "Stopped reading <b>{name}</b>. Its articles stay."
STATS_LAST_RELOAD = (
    "{when:%Y-%m-%d %H:%M} UTC ({added} added, {updated} updated, {removed} removed)"
)

NEW_ARTICLE = "🆕 "
DIGEST_TITLE = "📰 <b>Your digest</b>: {count} new"

SUBSCRIBED_ALL = (
    "✅ Subscribed to all new articles: they will come here as they arrive."
    " /subscriptions lists your filters; /unsubscribe stops."
)
SUBSCRIBED_WORDS = (
    "✅ Subscribed: new articles matching “{words}” will come here."
    " /subscriptions lists your filters."
)
ALREADY_SUBSCRIBED = "This chat has that subscription already. /subscriptions lists them."
SUBSCRIBE_NO_WORDS = (
    "“{words}” has no word to match. Try /subscribe climate, or /subscribe for all news."
)
SUBSCRIBE_TOO_LONG = "That filter is too long: at most {limit} characters."
SUBSCRIBE_TOO_MANY = "This chat has {limit} filters already; remove one in /subscriptions first."
GROUP_ADMINS_ONLY = "Only this group’s admins can change its subscriptions."
SUBSCRIPTIONS_NONE = (
    "No subscriptions here. /subscribe for all news, or /subscribe climate for articles"
    " about climate."
)
SUBSCRIPTIONS_TITLE = "<b>Subscriptions</b> (tap one to remove it)"
SUBSCRIPTION_ALL = "all news"
DELIVERY_INSTANT = "New articles come as they arrive; /digest 08:00 sends one message a day."
DELIVERY_DIGEST = "A digest comes daily at {time} ({zone}); /digest off for one per article."
BUTTON_REMOVE = "✖ {label}"
UNSUBSCRIBED = "Removed “{label}”."
UNSUBSCRIBED_ALL = "Unsubscribed from everything here. /subscribe to start again."
UNSUBSCRIBE_UNKNOWN = "There is no filter “{words}” here. /subscriptions lists them."
UNSUBSCRIBE_NOTHING = "There is nothing to unsubscribe from here."
UNSUBSCRIBE_WHICH = "Which one? Tap it below, or send /unsubscribe all."
SUBSCRIPTION_GONE = "That subscription is gone already."

DIGEST_SET = (
    "📰 One digest a day at {time} ({zone}) with the new articles since the last one."
    " /timezone Europe/Berlin sets your time zone; /digest off ends it."
)
DIGEST_OFF = "Digest off: new articles come as they arrive."
DIGEST_BAD = "Send /digest and a time like 08:00, or /digest off."
DIGEST_SHOW_OFF = "No digest: new articles come as they arrive. /digest 08:00 sends one a day."
DIGEST_SHOW_ON = "Your digest comes daily at {time} ({zone}). /digest off ends it."
TIMEZONE_SET = "Time zone set: {zone}."
TIMEZONE_BAD = (
    "“{name}” is not a time zone I know. Use a name like Europe/Berlin, America/New_York or UTC."
)
TIMEZONE_SHOW = "This chat’s time zone is {zone}. Change it with /timezone Europe/Berlin."

ERROR = "Sorry, something went wrong on my side. Please try again in a moment."
# Sent once when someone goes over the flood limit ([telegram] flood_messages, flood_seconds);
# what they send until it has passed is dropped.
FLOOD = "You’re sending messages faster than I can read them; I’ll answer again in a few seconds."

BUTTON_READ = "📖 {number}"
BUTTON_NEWER = "◀ Newer"
BUTTON_OLDER = "Older ▶"
BUTTON_PREVIOUS = "◀ Back"
BUTTON_NEXT = "More ▶"
BUTTON_MORE = "➕ More"
BUTTON_FULL_TEXT = "📄 Full text"
BUTTON_SUMMARY = "📝 Summary"
BUTTON_LATEST = "◀ Latest"
BUTTON_OPEN_IN_BOT = "Open in the bot"
SOURCE_LINK = "Source"

INLINE_EMPTY_TITLE = "No articles found"
INLINE_EMPTY_TEXT = "Try other words."

LANG_NOW = (
    "{current}\n\nArticles by language: {available}.\n"
    "Send /lang and a code, like /lang {example}, or /lang off for all."
)
LANG_ALL = "/latest and /search show articles in every language."
LANG_ONE = "/latest and /search show only articles in {name} ({code})."
LANG_SET = (
    "From now on /latest and /search show only articles in {name} ({code}). /lang off for all."
)
LANG_OFF = "From now on /latest and /search show articles in every language."
LANG_NONE = "There are no articles in “{value}”. Articles by language: {available}."
LANGUAGE_NAMES = {
    "cs": "Czech",
    "da": "Danish",
    "de": "German",
    "el": "Greek",
    "en": "English",
    "es": "Spanish",
    "et": "Estonian",
    "fi": "Finnish",
    "fr": "French",
    "it": "Italian",
    "ja": "Japanese",
    "ml": "Malayalam",
    "nl": "Dutch",
    "no": "Norwegian",
    "pl": "Polish",
    "pt": "Portuguese",
    "ru": "Russian",
    "sl": "Slovene",
    "sv": "Swedish",
    "tr": "Turkish",
    "zh": "Chinese",
    "ar": "Arabic",
    "uk": "Ukrainian",
    "ko": "Korean",
    "hi": "Hindi",
}
ALSO_REPORTED = "Also reported by: {links}"

# -- chart --
# The /stats chart (bot/chart.py): plain text, not HTML; the caption goes with the photo.
STATS_CHART_CAPTION = (
    "The last {days} days, by UTC day: articles added by source, deliveries sent and failed."
)
STATS_CHART_FAILED = "The chart could not be made this time; the log says why."
CHART_TITLE = "Last {days} days: {first:%d %b} – {last:%d %b %Y} (days in UTC)"
CHART_ARTICLES = "Articles added per day, by source"
CHART_DELIVERIES = "Deliveries per day"
CHART_SENT = "sent"
CHART_FAILED = "failed"
CHART_OTHER = "other"
CHART_LEGEND = "{name} ({total:,})"
CHART_DAY = "{day:%d %b}"
CHART_NO_ARTICLES = "No articles were added in these days."
CHART_NO_DELIVERIES = "No deliveries were sent or failed in these days."
