"""The app's settings: the Streamlit side's one reading of the environment `fxcrm serve` exports
(the paths of the CRM store and the serving snapshot, the broker's name)."""

from ingest.settings import Settings


def settings() -> Settings:
    """Read at each use, not cached: a test (AppTest) points the app at its own folders."""
    return Settings.from_env()
