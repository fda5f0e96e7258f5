"""A saved web page (HTML): its main text through bot.extract, as one Article."""

from __future__ import annotations

from datetime import datetime

from ..articles import Article, ArticleError, Block, _drop_boilerplate, normalize_text
from ..config import Boilerplate


def parse_html(data: bytes, *, source: str, bp: Boilerplate, mtime: datetime) -> Article:
    """A saved web page: its main text, headline, date, author, canonical URL and lead image."""
    from .. import extract  # trafilatura and lxml load only when a folder holds HTML

    try:
        page = extract.page(data)
    except extract.ExtractionError as exc:
        raise ArticleError(str(exc)) from None
    blocks = []
    for text, heading in page.blocks:
        lines = _drop_boilerplate([normalize_text(text)], bp)
        if lines and lines[0].strip():
            blocks.append(Block(" ".join(lines[0].split()), heading=heading))
    if not any(not b.heading for b in blocks):
        raise ArticleError("no body text on the page")
    return Article(
        title=page.title,
        blocks=tuple(blocks),
        source=source,
        published=page.published or mtime,
        dated=page.published is not None,
        url=page.url,
        language=page.language,
        author=page.author,
        image=page.image,
    )
