"""The format readers behind bot.articles.parse_bytes: plain (scraped text), markdown (front
matter + Markdown), records (JSON and JSON Lines), html (saved web pages). Each imports its model
and shared line helpers from bot.articles, which imports the readers only inside parse_bytes."""
