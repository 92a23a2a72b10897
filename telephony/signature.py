"""Is a request really from Twilio? Its X-Twilio-Signature is checked with the
`twilio` library's RequestValidator against the address Twilio was given — the
service's public URL (LIFEOS_PUBLIC_URL) plus the path and query as received —
never against the Host header, which the sender chooses."""

from __future__ import annotations

from collections.abc import Mapping

from twilio.request_validator import RequestValidator

SIGNATURE_HEADER = "x-twilio-signature"


class Signatures:
    def __init__(self, auth_token: str, public_url: str) -> None:
        self._validator = RequestValidator(auth_token)
        self.public_url = public_url.rstrip("/")

    def address(self, path: str, query: str = "", *, websocket: bool = False) -> str:
        """The URL Twilio requested, as it signed it: the public origin, the path and
        the query string exactly as it arrived (still percent-encoded)."""
        base = self.public_url
        if websocket:
            base = "wss" + base.removeprefix("https").removeprefix("http")
        return f"{base}{path}" + (f"?{query}" if query else "")

    def valid(self, url: str, params: Mapping[str, str], signature: str | None) -> bool:
        """The library accepts the URL with and without the default port, as Twilio
        signs it either way; anything else must match exactly."""
        if not signature:
            return False
        return bool(self._validator.validate(url, dict(params), signature))

    def sign(self, url: str, params: Mapping[str, str]) -> str:
        """Our own signature over ``params``: how the voice webhook vouches for the
        Media Stream it opens (the stream's `start` carries it back)."""
        return self._validator.compute_signature(url, dict(params))
