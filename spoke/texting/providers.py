"""SMS providers: `fake` (sends instantly, offline) and `twilio` (the twilio SDK)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any, Protocol

from spoke.texting import failures

log = logging.getLogger(__name__)

# The path of the status webhook (spoke.views.webhooks.twilio_status), below APPLICATION_ROOT.
STATUS_PATH = "/webhooks/twilio/status"


class ProviderError(Exception):
    """A send the provider refused: `str()` is the detail for admins, `reason` for the texter."""

    def __init__(self, detail: str, *, code: int | None = None, reason: str = "") -> None:
        super().__init__(detail)
        self.code = code
        self.reason = reason or failures.reason_for_code(code, failures.REJECTED)


class Provider(Protocol):
    name: str

    def send(self, to: str, body: str) -> str:
        """Send `body` to the E.164 number `to`; return the provider's message id."""
        ...


class FakeProvider:
    """Sends nothing anywhere: every message is 'sent' at once with a made-up id."""

    name = "fake"

    def send(self, to: str, body: str) -> str:
        """Pretend to send; return a unique fake message id."""
        sid = "FAKE" + uuid.uuid4().hex
        log.info("fake provider: %s to %s (%d characters)", sid, to, len(body))
        return sid


class TwilioProvider:
    """Sends through Twilio's Messages API with the official SDK."""

    name = "twilio"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str = "",
        messaging_service_sid: str = "",
        status_callback: str = "",
        timeout: float = 30,
    ) -> None:
        self.timeout = timeout
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid
        self.status_callback = status_callback

    def send(self, to: str, body: str) -> str:
        """Create the message at Twilio; return its MessageSid."""
        import requests
        from twilio.base.exceptions import TwilioException, TwilioRestException
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        if not (self.account_sid and self.auth_token):
            raise ProviderError(
                "Twilio is not configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN).",
                reason=failures.NOT_CONFIGURED,
            )
        if not (self.from_number or self.messaging_service_sid):
            raise ProviderError(
                "Twilio has no sender (TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID).",
                reason=failures.NOT_CONFIGURED,
            )
        params: dict[str, Any] = {"to": to, "body": body}
        if self.from_number:
            params["from_"] = self.from_number
        else:
            params["messaging_service_sid"] = self.messaging_service_sid
        if self.status_callback:
            params["status_callback"] = self.status_callback
        secrets = (self.account_sid, self.auth_token)
        # A bounded HTTP call, so a hung connection cannot outlive the outbox's sending timeout.
        http = TwilioHttpClient(timeout=self.timeout)
        try:
            client = Client(self.account_sid, self.auth_token, http_client=http)
            message = client.messages.create(**params)
        except TwilioRestException as exc:
            # str(exc) is colourised terminal output; keep what a person can read.
            code = f" {exc.code}" if exc.code else ""
            detail = failures.redact(f"Twilio error{code}: {exc.msg or 'request failed'}", secrets)
            raise ProviderError(detail, code=exc.code) from exc
        except TwilioException as exc:
            raise ProviderError(failures.redact(f"Twilio error: {exc}", secrets)) from exc
        except requests.RequestException as exc:
            detail = failures.redact(f"{type(exc).__name__}: {exc}", secrets)
            raise ProviderError(detail, reason=failures.UNREACHABLE) from exc
        return str(message.sid)


def status_callback_url(config: Mapping[str, Any]) -> str:
    """The public URL of our status webhook, or "" when PUBLIC_BASE_URL is not set."""
    base = str(config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    if not base:
        return ""
    root = str(config.get("APPLICATION_ROOT") or "/").rstrip("/")
    return base + root + STATUS_PATH


def get_provider(config: Mapping[str, Any]) -> Provider:
    """The provider named by SMS_PROVIDER ("fake" or "twilio")."""
    name = str(config.get("SMS_PROVIDER") or "fake").lower()
    if name == "fake":
        return FakeProvider()
    if name == "twilio":
        return TwilioProvider(
            account_sid=str(config.get("TWILIO_ACCOUNT_SID") or ""),
            auth_token=str(config.get("TWILIO_AUTH_TOKEN") or ""),
            from_number=str(config.get("TWILIO_FROM_NUMBER") or ""),
            messaging_service_sid=str(config.get("TWILIO_MESSAGING_SERVICE_SID") or ""),
            status_callback=status_callback_url(config),
        )
    raise ValueError(f"Unknown SMS_PROVIDER {name!r}: use 'fake' or 'twilio'.")


def is_fake(config: Mapping[str, Any]) -> bool:
    """True when the offline fake provider is active."""
    return str(config.get("SMS_PROVIDER") or "fake").lower() == "fake"
