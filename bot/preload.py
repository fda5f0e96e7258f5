"""What a forkserver imports before it forks any worker (the index's and the chat's summary
pools): sumy and nltk (bot.summarize) and the language model (half a second to load), once
per bot process and shared by every worker forked afterwards, rather than loaded again in each
worker of each index run. Imported for that side effect only."""

from __future__ import annotations

from . import folder, languages, summarize  # noqa: F401  (imported to be inherited)

languages.preload()
