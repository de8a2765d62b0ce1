"""Settings from the environment and `.env` (prefix ``BELEGWERK_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from platformdirs import user_data_dir
from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob a user or operator can turn; documented in the README."""

    model_config = SettingsConfigDict(env_prefix="BELEGWERK_", env_file=".env", extra="ignore")

    data_dir: Path = Field(
        default_factory=lambda: Path(user_data_dir("belegwerk", appauthor=False))
    )
    database_url: str = ""
    # PostgreSQL only: the non-superuser role the app switches to so row-level security applies.
    database_role: str = "belegwerk_app"
    host: str = "127.0.0.1"
    port: int = 8000
    locale: str = "de"
    # Entries dated further ahead than this many days are refused as typos.
    max_future_days: int = 366
    page_size: int = 50

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'belegwerk.sqlite3'}"
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
