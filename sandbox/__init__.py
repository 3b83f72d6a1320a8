"""A fake Telegram Bot API for tests and the terminal simulator: in process, or over HTTP."""
