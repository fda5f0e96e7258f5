"""Everything Telegram: handlers, rendering, the Application. Never writes SQL."""
