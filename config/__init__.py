"""The bot's configuration, read from the environment or a `.env` file."""
