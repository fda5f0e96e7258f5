"""Everything Telegram: handlers, rendering, the Application. Never writes SQL."""

import os

# PTB 22 opt-in: durations such as RetryAfter.retry_after are timedeltas (the next major
# version's behaviour). Without it, merely raising RetryAfter emits a deprecation warning.
os.environ.setdefault("PTB_TIMEDELTA", "true")
