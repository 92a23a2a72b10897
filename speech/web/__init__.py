"""The web page with the voice button (static files, served by the app)."""

from pathlib import Path

WEB_PAGE = Path(__file__).parent
PAGE = "index.html"
# Only these are served: the folder also holds this module and its bytecode.
ASSETS = frozenset({"app.js", "capture-worklet.js", "style.css"})
