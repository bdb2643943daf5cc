"""Call control for Python LiveKit agents: act on the phone call in the agent's
own room through this service's ``call-control`` function.

One file, standard library only (HS256 with hmac/hashlib, HTTP with urllib),
so it drops into any livekit-agents project:

    control = CallControl(url="https://<service>.twil.io/call-control")
    await asyncio.to_thread(control.transfer, room_name, "billing", "Connecting you to billing.")

Each request carries a token minted with the LiveKit API key and secret the
agent already has: valid for 60 seconds, roomAdmin for this room only, and a
``sha256`` claim over this request's exact parameters.
"""

import base64
import hashlib
import hmac
import json
import os
import time
import urllib.error
import urllib.request


class CallControlError(Exception):
    """What the function answered when it did not do the action."""

    def __init__(self, status, code, message, field=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.field = field


def canonical_json(value):
    """The request's parameters as JSON with sorted keys and no spaces: what the sha256 claim covers."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def mint_token(api_key, api_secret, room, body_text, ttl_seconds=60):
    """An HS256 LiveKit access token: issuer the API key, roomAdmin for `room`, sha256 of the body."""
    now = int(time.time())
    header = {"alg": "HS256", "typ": "JWT"}
    claims = {
        "iss": api_key,
        "nbf": now,
        "exp": now + ttl_seconds,
        "video": {"roomAdmin": True, "room": room},
        "sha256": base64.b64encode(hashlib.sha256(body_text.encode("utf-8")).digest()).decode("ascii"),
    }
    signing_input = _b64url(canonical_json(header).encode()) + "." + _b64url(canonical_json(claims).encode())
    signature = hmac.new(api_secret.encode("utf-8"), signing_input.encode("ascii"), hashlib.sha256).digest()
    return signing_input + "." + _b64url(signature)


class CallControl:
    def __init__(self, url=None, api_key=None, api_secret=None, timeout=10.0):
        self.url = url or os.environ.get("CALL_CONTROL_URL", "")
        self.api_key = api_key or os.environ.get("LIVEKIT_API_KEY", "")
        self.api_secret = api_secret or os.environ.get("LIVEKIT_API_SECRET", "")
        self.timeout = timeout
        if not (self.url and self.api_key and self.api_secret):
            raise ValueError("CallControl needs url, api_key and api_secret (or CALL_CONTROL_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET)")

    def hangup(self, room):
        """Ends the call. A call that already ended is not an error."""
        return self._send(room, {"action": "hangup"})

    def transfer(self, room, target, message=None):
        """Connects the caller to a configured target (by name), after an optional message."""
        body = {"action": "transfer", "target": target}
        if message:
            body["message"] = message
        return self._send(room, body)

    def return_to_flow(self, room, result=None, fields=None):
        """Returns a call that a Studio flow sent here to that flow, with a result and string fields."""
        body = {"action": "return-to-flow"}
        if result:
            body["result"] = result
        if fields:
            body["fields"] = fields
        return self._send(room, body)

    def add_human(self, room, target):
        """Calls a configured target into <room>-consult, where the agent can brief them."""
        return self._send(room, {"action": "add-human", "target": target})

    def cancel_human(self, room):
        """Hangs up the call add_human placed."""
        return self._send(room, {"action": "cancel-human"})

    def _send(self, room, body):
        text = canonical_json(body)
        token = mint_token(self.api_key, self.api_secret, room, text)
        request = urllib.request.Request(
            self.url,
            data=text.encode("utf-8"),
            method="POST",
            headers={"content-type": "application/json", "authorization": "Bearer " + token},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as error:
            try:
                detail = json.loads(error.read().decode("utf-8")).get("error", {})
            except ValueError:
                detail = {}
            raise CallControlError(error.code, detail.get("code", "http-error"), detail.get("message", "HTTP %d" % error.code), detail.get("field")) from None
