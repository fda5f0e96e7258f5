"""Every sentence the bot says, in one place (HTML; {placeholders} are filled escaped)."""

from __future__ import annotations

from .i18n import N_, NP_

# The command menu: (command, description), in the order Telegram shows them.
COMMANDS = (
    ("latest", N_("Newest articles")),
    ("search", N_("Search articles: /search election")),
    ("read", N_("Read an article: /read 42")),
    ("subscribe", N_("Get new articles: all, or /subscribe climate")),
    ("subscriptions", N_("Your subscriptions, to remove one")),
    ("unsubscribe", N_("Stop: /unsubscribe climate, or all")),
    ("digest", N_("One message a day: /digest 08:00, or off")),
    ("timezone", N_("Your time zone: /timezone Europe/Berlin")),
    ("lang", N_("Only one language: /lang de, or /lang off")),
    ("pictures", N_("Articles with their picture: /pictures off, or on")),
    ("language", N_("The language I speak: /language de, or auto")),
    ("help", N_("What I can do")),
    ("start", N_("Start over")),
)
ADMIN_COMMANDS = (
    ("reload", N_("Re-read the articles folder")),
    ("stats", N_("Articles, subscribers, deliveries, feeds")),
    ("feeds", N_("The feeds I read, and how each is doing")),
    ("addfeed", N_("Read a feed: /addfeed https://example.org/rss")),
    ("removefeed", N_("Stop reading a feed: /removefeed name")),
    ("export", N_("The feeds as an OPML file, for another reader")),
)

START = N_(
    "👋 I summarize the news: each article in a few of its own sentences.\n\n"
    "{headlines}"
    "Send /latest for the newest articles, /search with a few words to find one, or just type"
    " words here to search. /help lists everything."
)
START_HEADLINES = N_("<b>Newest</b>\n{lines}\n\n")
START_EMPTY = N_("There are no articles yet.\n\n")
# While the first index run fills an empty database: instead of "no articles", how far it is
# (by stage: files read, then summarized; a stage without words of its own gets the counts).
INDEXING_STARTED = N_(
    "⏳ I am indexing the articles; they will be here soon. Ask again in a while."
)
INDEXING_READ = N_(
    "⏳ I am indexing the articles: {done:,} of {total:,} files read. Ask again in a while."
)
INDEXING_SUMMARIZED = N_(
    "⏳ I am indexing the articles: {done:,} of {total:,} summarized. Ask again in a while."
)
INDEXING_COUNTED = N_("⏳ I am indexing the articles: {done:,} of {total:,}. Ask again in a while.")

HELP = N_(
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
HELP_ADMIN = N_(
    "\n\n<b>Admins</b>\n/reload — re-read the articles folder and report what changed\n"
    "/stats — articles, subscribed chats, deliveries, feeds\n"
    "/feeds — the RSS and Atom feeds I read, with their last problem\n"
    "/addfeed https://example.org/rss [name] — read a feed (polled every {minutes:g} min)\n"
    "/removefeed name — stop reading one (its articles stay)\n"
    "/export — the feeds as an OPML file; send me an .opml file to add its feeds"
)

LATEST_TITLE = N_("<b>Latest news</b> ({first}–{last} of {total})")
# Under a list's title: lists number their articles by id, which /read takes.
LIST_HINT = N_("<i>The number before a headline opens it: send /read {id} or tap 📖 {id}.</i>")
LATEST_EMPTY = N_("There are no articles yet. Ask an admin to add some and /reload.")
LATEST_BAD_COUNT = N_("Send /latest, or /latest 10 for ten at a time (1 to {max}).")

READ_NO_ID = N_(
    "Which article? Send /read and the number before its headline in /latest or a search,"
    " like /read 42."
)
# /read N where N is not an id in the chat's last list but its N-th article: opened, and said.
READ_BY_PLACE = N_("↪ Number {place} in the list you saw last is article {id}.\n\n")
# /read N where N is both an article's id and a place in the last list: ask.
READ_WHICH = N_(
    "Which one do you mean?\n\n"
    "📖 {number}: article {number}, <b>{by_id}</b>\n"
    "📖 {by_place_id}: number {number} in the list you saw last, <b>{by_place}</b>"
)
# An article card's last line: its number, and how to come back to it.
ARTICLE_FOOT = N_("Article {id} · /read {id} opens it again")
READ_NOT_A_NUMBER = N_(
    "“{text}” is not an article number. Send /read and a number, like /read 42;"
    " to look for words, use /search {text}."
)
READ_UNKNOWN = N_(
    "There is no article {id} (it may have been removed). Send /latest and use the number"
    " before a headline."
)
READ_BAD_SENTENCES = N_(
    "Send /read {id} and a number of sentences from 1 to {max}, like /read {id} 5."
)
ARTICLE_GONE = N_("This article is no longer available.")
STALE_BUTTON = N_("This button is out of date. Send /latest to start again.")

SEARCH_ASK = N_("What should I look for? Send /search and a few words, like /search election.")
SEARCH_NONE = N_(
    "Nothing found for “{query}”. Try fewer or other words, a word’s beginning with *"
    " (like elect*), or see /latest."
)
# Also the answer to a button of another chat's search: whether it exists is not told.
SEARCH_EXPIRED = N_("This button has expired; search again.")
SEARCH_TOO_SLOW = N_("That search took too long; try fewer words.")
SEARCH_TITLE = N_("🔎 <b>{query}</b> ({first}–{last} of {total})")
SEARCH_RELAXED = N_("<i>No article has all those words; these have some of them.</i>")
# A phrase of common words is looked for among the newest articles only (store.search).
SEARCH_NEWEST = N_(
    "<i>A phrase of common words: only the newest {count} articles or so were searched.</i>"
)

FULL_TEXT_TITLE = N_("<b>{title}</b> — page {page} of {pages}")

UNKNOWN_COMMAND = N_("I don’t know {command}. /help lists what I can do.")
NOT_TEXT = N_("I read text only. Send /latest, /search with a few words, or /help.")

RELOAD_STARTED = N_("Re-reading the articles folder…")
RELOAD_REPORT = N_(
    "<b>Reload done</b> in {seconds:.1f} s: {added} added, {updated} updated,"
    " {removed} removed, {unchanged} unchanged, {failed} failed; {queued} deliveries queued."
)
RELOAD_FAILED_LINE = N_("• {path}: {error}")
RELOAD_MORE_FAILED = N_("…and {count} more.")
RELOAD_ERROR = N_("The reload could not run: {error}")

ADMINS_ONLY = N_("Sorry, only the bot’s admins can do that.")
STATS = N_(
    "<b>Stats</b>\n"
    "Articles: {articles}\n"
    "Subscribed chats: {chats}\n"
    "Deliveries: {sent} sent, {queued} queued, {held} held for digests, {failed} failed,"
    " {dropped} dropped\n"
    "Last reload: {last_reload}"
)
STATS_FEEDS = N_("\nFeeds: {count} ({failing} failing)")
STATS_FEED_FAILING = NP_(
    "\n• {name}: {error} ({count} failure in a row)",
    "\n• {name}: {error} ({count} failures in a row)",
)
STATS_FEED_NOTE = N_("\n• {name}: last problem {error}")
STATS_NEVER = N_("never")

FEEDS_NONE = N_("I read no feeds. Add one: /addfeed https://example.org/rss")
FEEDS_TITLE = N_("<b>Feeds</b> ({count})")
FEED_LINE = N_("\n\n<b>{name}</b> — {url}\n{status}")
FEED_OK = NP_(
    "✅ {count} entry taken; last read {when}", "✅ {count} entries taken; last read {when}"
)
FEED_NEVER = N_("⏳ not read yet")
FEED_FAILING = NP_(
    "⚠️ {count} failure in a row: {error}; next try {next}",
    "⚠️ {count} failures in a row: {error}; next try {next}",
)
FEED_NOTE = N_("\nLast problem: {error}")
ADDFEED_USAGE = N_(
    "Send /addfeed and the feed’s address, like /addfeed https://example.org/rss"
    " (a name may follow)."
)
ADDFEED_BAD = N_("I can’t read that address: {reason}.")
ADDFEED_TAKEN = N_("Not added: {reason}. /feeds lists them.")
ADDFEED_DONE = N_("Added <b>{name}</b>. Reading it now…")
ADDFEED_RESULT = NP_("<b>{name}</b>: {count} new article.", "<b>{name}</b>: {count} new articles.")
ADDFEED_FAILED = N_(
    "<b>{name}</b> did not answer as a feed: {error}. I will try again later;"
    " /removefeed {name} to drop it."
)
REMOVEFEED_USAGE = N_("Which feed? Send /removefeed and its name, as /feeds shows it.")
REMOVEFEED_UNKNOWN = N_("There is no feed called “{name}”. /feeds lists them.")
REMOVEFEED_DONE = N_("Stopped reading <b>{name}</b>. Its articles stay.")
STATS_LAST_RELOAD = N_(
    "{when:%Y-%m-%d %H:%M} UTC ({added} added, {updated} updated, {removed} removed)"
)

NEW_ARTICLE = N_("🆕 ")
DIGEST_TITLE = NP_(
    "📰 <b>Your digest</b>: {count} new article", "📰 <b>Your digest</b>: {count} new articles"
)

SUBSCRIBED_ALL = N_(
    "✅ Subscribed to all new articles: they will come here as they arrive."
    " /subscriptions lists your filters; /unsubscribe stops."
)
SUBSCRIBED_WORDS = N_(
    "✅ Subscribed: new articles matching “{words}” will come here."
    " /subscriptions lists your filters."
)
ALREADY_SUBSCRIBED = N_("This chat has that subscription already. /subscriptions lists them.")
SUBSCRIBE_NO_WORDS = N_(
    "“{words}” has no word to match. Try /subscribe climate, or /subscribe for all news."
)
SUBSCRIBE_TOO_LONG = NP_(
    "That filter is too long: at most {count} character.",
    "That filter is too long: at most {count} characters.",
)
SUBSCRIBE_TOO_MANY = NP_(
    "This chat has {count} filter already; remove it in /subscriptions first.",
    "This chat has {count} filters already; remove one in /subscriptions first.",
)
GROUP_ADMINS_ONLY = N_("Only this group’s admins can change its subscriptions.")
SUBSCRIPTIONS_NONE = N_(
    "No subscriptions here. /subscribe for all news, or /subscribe climate for articles"
    " about climate."
)
SUBSCRIPTIONS_TITLE = N_("<b>Subscriptions</b> (tap one to remove it)")
SUBSCRIPTION_ALL = N_("all news")
DELIVERY_INSTANT = N_("New articles come as they arrive; /digest 08:00 sends one message a day.")
DELIVERY_DIGEST = N_("A digest comes daily at {time} ({zone}); /digest off for one per article.")
BUTTON_REMOVE = N_("✖ {label}")
UNSUBSCRIBED = N_("Removed “{label}”.")
UNSUBSCRIBED_ALL = N_("Unsubscribed from everything here. /subscribe to start again.")
UNSUBSCRIBE_UNKNOWN = N_("There is no filter “{words}” here. /subscriptions lists them.")
UNSUBSCRIBE_NOTHING = N_("There is nothing to unsubscribe from here.")
UNSUBSCRIBE_WHICH = N_("Which one? Tap it below, or send /unsubscribe all.")
SUBSCRIPTION_GONE = N_("That subscription is gone already.")

DIGEST_SET = N_(
    "📰 One digest a day at {time} ({zone}) with the new articles since the last one."
    " /timezone Europe/Berlin sets your time zone; /digest off ends it."
)
DIGEST_OFF = N_("Digest off: new articles come as they arrive.")
DIGEST_BAD = N_("Send /digest and a time like 08:00, or /digest off.")
DIGEST_SHOW_OFF = N_("No digest: new articles come as they arrive. /digest 08:00 sends one a day.")
DIGEST_SHOW_ON = N_("Your digest comes daily at {time} ({zone}). /digest off ends it.")
TIMEZONE_SET = N_("Time zone set: {zone}.")
TIMEZONE_BAD = N_(
    "“{name}” is not a time zone I know. Use a name like Europe/Berlin, America/New_York or UTC."
)
TIMEZONE_SHOW = N_("This chat’s time zone is {zone}. Change it with /timezone Europe/Berlin.")

ERROR = N_("Sorry, something went wrong on my side. Please try again in a moment.")
# Sent once when someone goes over the flood limit ([telegram] flood_messages, flood_seconds);
# what they send until it has passed is dropped.
FLOOD = N_(
    "You’re sending messages faster than I can read them; I’ll answer again in a few seconds."
)

BUTTON_READ = N_("📖 {number}")
BUTTON_NEWER = N_("◀ Newer")
BUTTON_OLDER = N_("Older ▶")
BUTTON_PREVIOUS = N_("◀ Back")
BUTTON_NEXT = N_("More ▶")
BUTTON_MORE = N_("➕ More")
BUTTON_FULL_TEXT = N_("📄 Full text")
BUTTON_SUMMARY = N_("📝 Summary")
BUTTON_LATEST = N_("◀ Latest")
BUTTON_OPEN_IN_BOT = N_("Open in the bot")
SOURCE_LINK = N_("Source")

INLINE_EMPTY_TITLE = N_("No articles found")
INLINE_EMPTY_TEXT = N_("Try other words.")

LANG_NOW = N_(
    "{current}\n\nArticles by language: {available}.\n"
    "Send /lang and a code, like /lang {example}, or /lang off for all."
)
LANG_ALL = N_("/latest and /search show articles in every language.")
LANG_ONE = N_("/latest and /search show only articles in {name} ({code}).")
LANG_SET = N_(
    "From now on /latest and /search show only articles in {name} ({code}). /lang off for all."
)
LANG_OFF = N_("From now on /latest and /search show articles in every language.")
LANG_NONE = N_("There are no articles in “{value}”. Articles by language: {available}.")
LANGUAGE_NAMES = {
    "cs": N_("Czech"),
    "da": N_("Danish"),
    "de": N_("German"),
    "el": N_("Greek"),
    "en": N_("English"),
    "es": N_("Spanish"),
    "et": N_("Estonian"),
    "fi": N_("Finnish"),
    "fr": N_("French"),
    "it": N_("Italian"),
    "ja": N_("Japanese"),
    "ml": N_("Malayalam"),
    "nl": N_("Dutch"),
    "no": N_("Norwegian"),
    "pl": N_("Polish"),
    "pt": N_("Portuguese"),
    "ru": N_("Russian"),
    "sl": N_("Slovene"),
    "sv": N_("Swedish"),
    "tr": N_("Turkish"),
    "zh": N_("Chinese"),
    "ar": N_("Arabic"),
    "uk": N_("Ukrainian"),
    "ko": N_("Korean"),
    "hi": N_("Hindi"),
}
ALSO_REPORTED = N_("Also reported by: {links}")

# -- OPML --
OPML_NOT_A_LIST = N_(
    "I take feed lists only: an OPML file (.opml) exported from a feed reader. To add one feed,"
    " send /addfeed and its address."
)
OPML_ADMINS_ONLY = N_("Sorry, only the bot’s admins can add feeds; I keep no other files.")
OPML_TOO_LARGE = N_("That file is {size}; a feed list (OPML) may be {limit} at most.")
OPML_BAD = N_("I can’t use <b>{name}</b>: {reason}.")
OPML_READING = NP_(
    "Adding the {count} feed of <b>{name}</b> and reading it once…",
    "Adding the {count} feeds of <b>{name}</b> and reading each once…",
)
OPML_REPORT = N_("<b>Imported {name}</b>: {added} added, {present} already there, {failed} failed.")
OPML_ADDED = N_("\n✅ <b>Added</b>")
OPML_ADDED_LINE = NP_("• {name}: {count} new article", "• {name}: {count} new articles")
OPML_ADDED_WAITING = N_("• {name}: not read yet; the next poll reads it")
OPML_PRESENT = N_("\n<b>Already there</b>")
OPML_PRESENT_LINE = N_("• {name}: {why}")
OPML_FAILED = N_("\n⚠️ <b>Failed</b>")
OPML_FAILED_LINE = N_("• {name}: {reason}")
OPML_FAILED_KEPT = N_(
    "Feeds that did not answer stay on the list and are tried again later; /removefeed name"
    " drops one."
)
OPML_NOTES = N_("\n<b>Notes on the file</b>")
OPML_NOTE_LINE = N_("• {note}")
OPML_MORE = N_("…and {count} more.")
EXPORT_NONE = N_(
    "I read no feeds, so there is nothing to export. Add one: /addfeed https://example.org/rss"
)
EXPORT_CAPTION = NP_(
    "{count} feed as OPML: any feed reader imports this file.",
    "{count} feeds as OPML: any feed reader imports this file.",
)
# -- pictures --
# /pictures: an article's lead image as the large preview above its message ([telegram]
# pictures in the config turns them off for every chat).
# /help: after HELP (a message of its own, so that HELP's translations stay as they are).
HELP_PICTURES = N_(
    "\n\n/pictures off — articles without their picture above them; /pictures on to show it"
)
PICTURES_SHOW_ON = N_(
    "Articles come with their picture above them, where they have one. /pictures off for text only."
)
PICTURES_SHOW_OFF = N_("Articles come as text only. /pictures on shows their picture above them.")
PICTURES_DISABLED = N_(
    "Pictures are turned off for this bot by its operator: articles come as text."
)
PICTURES_ON = N_("🖼 From now on articles come with their picture above them, where they have one.")
PICTURES_OFF = N_(
    "From now on articles come as text only. /pictures on brings their pictures back."
)
PICTURES_ON_BUT_DISABLED = N_(
    "Noted, but pictures are turned off for this bot by its operator: articles come as text."
)
PICTURES_BAD = N_(
    "“{value}” is neither on nor off. Send /pictures on, /pictures off, or /pictures."
)

# The list of article languages (/lang) when there are none.
LANG_NO_ARTICLES = N_("none")

# How far a moment is from now (/feeds: last read, next try).
MOMENT_NOW = N_("now")
MOMENT_JUST_NOW = N_("just now")
MOMENT_IN_MINUTES = NP_("in {count} min", "in {count} min")
MOMENT_MINUTES_AGO = NP_("{count} min ago", "{count} min ago")
MOMENT_IN_HOURS = NP_("in {count} h", "in {count} h")
MOMENT_HOURS_AGO = NP_("{count} h ago", "{count} h ago")
MOMENT_IN_DAYS = NP_("in {count} day", "in {count} days")
MOMENT_DAYS_AGO = NP_("{count} day ago", "{count} days ago")

# /language: the bot's own language in this chat. {name} is a language's own name (Deutsch),
# {choices} the list of them with their codes.
LANGUAGE_CHOSEN = N_(
    "I speak {name} in this chat. Send /language and a code to change it ({choices}), or"
    " /language auto to speak each person’s Telegram language."
)
LANGUAGE_FOLLOWS = N_(
    "I speak each person’s Telegram language here ({name} for you). Send /language and a"
    " code to choose one for this chat: {choices}."
)
LANGUAGE_SET = N_(
    "From now on I speak {name} in this chat. /language auto: each person’s Telegram language."
)
LANGUAGE_AUTO = N_("From now on I speak each person’s Telegram language here.")
LANGUAGE_UNKNOWN = N_("I don’t speak “{value}”. I speak {choices}.")

# -- chart --
# The /stats chart (bot/chart.py): plain text, not HTML; the caption goes with the photo.
STATS_CHART_CAPTION = N_(
    "The last {days} days, by UTC day: articles added by source, deliveries sent and failed."
)
STATS_CHART_FAILED = N_("The chart could not be made this time; the log says why.")
CHART_TITLE = N_("Last {days} days: {first} – {last} (days in UTC)")
CHART_ARTICLES = N_("Articles added per day, by source")
CHART_DELIVERIES = N_("Deliveries per day")
CHART_SENT = N_("sent")
CHART_FAILED = N_("failed")
CHART_OTHER = N_("other")
CHART_LEGEND = N_("{name} ({total:,})")
CHART_NO_ARTICLES = N_("No articles were added in these days.")
CHART_NO_DELIVERIES = N_("No deliveries were sent or failed in these days.")
