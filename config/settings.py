"""Configuration from the environment and `.env`, validated once at start-up."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Relative to the working directory, as the README says: `./data/score.db`.
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/score.db"
TELEGRAM_API_ROOT = "https://api.telegram.org"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: str | None = None
    database_url: str = DEFAULT_DATABASE_URL
    # NoDecode: a comma-separated list is friendlier in .env files than JSON.
    staff_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    telegram_api_base_url: str = TELEGRAM_API_ROOT
    default_locale: Literal["id", "en"] = "id"
    broadcast_rate: float = Field(default=25.0, gt=0, le=10000)
    # Requests the outbox keeps in flight; also the most messages a hard crash can duplicate.
    outbox_in_flight: int = Field(default=16, ge=1, le=1000)
    webhook_url: str | None = None
    # Checked even when unset: with a webhook it is required (validate_default).
    webhook_secret: str | None = Field(default=None, validate_default=True)
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    # Outbox texts and stored files older than this are deleted (UU PDP: kept no longer
    # than needed); delivery counts stay (jobs/retention.py).
    retention_days: int = Field(default=180, ge=1, le=3650)

    @field_validator("staff_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",") if p.strip()]
            try:
                return frozenset(int(p) for p in parts)
            except ValueError:
                raise ValueError(
                    "must be comma-separated Telegram user ids, e.g. 12345,67890") from None
        return value

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: str | None) -> str | None:
        value = (value or "").strip() or None
        # "<bot id>:<secret>", as BotFather gives it; never echo the value itself.
        if value is not None and not re.fullmatch(r"\d+:[A-Za-z0-9_-]+", value):
            raise ValueError("does not look like a token from BotFather (<digits>:<letters>)")
        return value

    @field_validator("telegram_api_base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("webhook_url", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return value.strip() or None if isinstance(value, str) else value

    @field_validator("webhook_secret", mode="before")
    @classmethod
    def _secret_with_webhook(cls, value: object, info: ValidationInfo) -> object:
        """Without a secret, anyone who reaches the port could post updates "from" staff;
        Telegram accepts 1 to 256 of A-Z a-z 0-9 _ - and sends it in every request."""
        secret = value.strip() if isinstance(value, str) else value
        if not info.data.get("webhook_url"):
            return secret or None
        if not secret:
            raise ValueError("is required when WEBHOOK_URL is set")
        if not isinstance(secret, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise ValueError("must be 1 to 256 characters of A-Z, a-z, 0-9, _ and -")
        return secret

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must be a sqlite+aiosqlite:// or postgresql+asyncpg:// URL")
        return value

    @property
    def api_base_url(self) -> str:
        return f"{self.telegram_api_base_url}/bot"

    @property
    def api_file_url(self) -> str:
        return f"{self.telegram_api_base_url}/file/bot"


class ConfigError(Exception):
    """A configuration value is missing or malformed; the message names the variable."""


def load_settings(**overrides: object) -> Settings:
    try:
        # Keyword overrides of any field (tests, the CLI), checked by pydantic like the rest.
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors(include_input=False)[0]
        name = str(err["loc"][0]).upper() if err["loc"] else "configuration"
        raise ConfigError(f"{name}: {err['msg']}") from None
