"""SCORE Assistant: wiring and configuration of the Telegram bot."""

import os

# PTB 22 gives RetryAfter.retry_after as a timedelta only with this set, and warns otherwise.
os.environ.setdefault("PTB_TIMEDELTA", "1")
