"""The web page with the voice button (static files, served by the app)."""

from pathlib import Path

WEB_PAGE = Path(__file__).parent
