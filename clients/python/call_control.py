"""Call control for Python LiveKit agents: act on the phone call in the agent's
own room through this service's ``call-control`` function.

One file, standard library only (HS256 with hmac/hashlib, HTTP with urllib),
so it drops into any livekit-agents project:

    control = CallControl()  # reads nothing yet
    await asyncio.to_thread(control.transfer, room_name, "billing", "Connecting you to billing.")

CALL_CONTROL_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET are read when a
request is sent, not before, so load_dotenv() after the imports works. Each
request carries a token minted with the LiveKit API key and secret the agent
already has: valid for 60 seconds, roomAdmin for this room only, and a
``sha256`` claim over this request's exact bytes.
"""

import base64
import hashlib
import hmac
import json
import os
import re
import socket
import time
import urllib.error
import urllib.request

_NAME = re.compile(r"[\x21-\x7e]+")  # printable ASCII: code point order is byte order
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # a Python str holds astral characters whole


# Answers after which the change may have happened all the same: a model told "nothing was done" would do it again.
_MAY_HAVE_CHANGED = ("twilio-timeout", "twilio-error")


class CallControlError(Exception):
    """What the function answered when it did not do the action, or why no answer came (status 0).

    ``str(error)`` is :attr:`sentence`, for the model.
    """

    def __init__(self, status, code, message, field=None, targets=None):
        super().__init__(message)
        self.status = status  # HTTP status; 0 when no answer came
        self.code = code  # the function's error code, or timeout / unreachable / bad-answer
        self.message = message
        self.field = field  # the request member the refusal is about
        self.targets = targets  # for target-unknown: the target names configured for this call

    @property
    def sentence(self):
        """The refusal as a sentence for the model: what happened and what it can do instead."""
        if self.code == "timeout":
            return "The phone system did not answer in time; the call may or may not have changed."
        if self.status == 0:
            return "The phone system could not be reached; nothing was done."
        if self.status == 429:
            return "The phone system is busy; nothing was done. Try again in a moment."
        if self.code in _MAY_HAVE_CHANGED:
            return "The phone system did not confirm the change (%s); the call may or may not have changed." % self.code
        if self.status == 401 or self.status >= 500:
            return "The call could not be changed (%s); nothing was done." % self.code
        text = self.message if self.message.endswith((".", "!", "?")) else self.message + "."
        unnamed = any(t not in self.message for t in self.targets or [])
        return "Nothing was done: " + text + (" The targets are: %s." % ", ".join(self.targets) if unnamed else "")

    def __str__(self):
        return self.sentence


def canonical_json(request):
    """The signed form of a request. The token's ``sha256`` claim is the base64
    (standard, padded) SHA-256 of the UTF-8 bytes of this text:

    - one JSON object; members whose value is None left out;
    - values strings, or for ``fields`` a dict of strings (nothing deeper);
    - names ASCII, sorted in ascending byte order at every level;
    - no whitespace outside strings: ``{"action":"transfer","target":"billing"}``;
    - strings as ECMAScript's JSON.stringify writes them: ``\\"`` ``\\\\`` ``\\b``
      ``\\f`` ``\\n`` ``\\r`` ``\\t``, other U+0000-001F as ``\\u00xx`` (lowercase
      hex), every other character as itself (non-ASCII, U+2028/2029, astral,
      DEL); a lone surrogate raises ValueError.

    ``json.dumps(..., sort_keys=True, separators=(",", ":"), ensure_ascii=False)``
    writes exactly that (tests/clients/canonical.test.ts checks it against the
    Node client and the server); this function only checks and drops Nones first.
    """

    def clean(value, path, nested):
        if isinstance(value, str):
            if _LONE_SURROGATE.search(value):
                raise ValueError("%s holds a lone surrogate" % path)
            return value
        if not nested or not isinstance(value, dict):
            raise TypeError("%s must be a string%s" % (path, " or a dict of strings" if nested else ""))
        out = {}
        for name, item in value.items():
            if not isinstance(name, str) or not _NAME.fullmatch(name):
                raise TypeError("%s: member names must be printable ASCII" % (path or "request"))
            if item is not None:
                out[name] = clean(item, path + "." + name if path else name, not path)
        return out

    return json.dumps(clean(request, "", True), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


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
    segments = [_b64url(json.dumps(part, separators=(",", ":")).encode("utf-8")) for part in (header, claims)]
    signing_input = ".".join(segments)
    signature = hmac.new(api_secret.encode("utf-8"), signing_input.encode("ascii"), hashlib.sha256).digest()
    return signing_input + "." + _b64url(signature)


def _retry_after(header):
    """Retry-After in seconds (1 when missing or unreadable), at most 2."""
    try:
        seconds = float(header)
    except (TypeError, ValueError):
        seconds = 1.0
    return min(seconds if seconds >= 0 else 1.0, 2.0)


class CallControl:
    def __init__(self, url=None, api_key=None, api_secret=None, timeout=10.0):
        """Reads nothing: the environment is read when a request is sent.

        timeout: the whole wait for an answer in seconds, a retry included (the function answers within 8).
        """
        self._url, self._api_key, self._api_secret = url, api_key, api_secret
        self.timeout = timeout

    def hangup(self, room, leg=None):
        """Ends the call (or, after add_human, the "person"'s call, or "both"). A call that already ended is not an error."""
        return self._send(room, {"action": "hangup", "leg": leg})

    def transfer(self, room, target, message=None):
        """Connects the caller to a configured target (by name), after an optional message."""
        return self._send(room, {"action": "transfer", "target": target, "message": message})

    def return_to_flow(self, room, result=None, fields=None):
        """Returns a call that a Studio flow sent here to that flow, with a result and string fields."""
        return self._send(room, {"action": "return-to-flow", "result": result, "fields": fields})

    def add_human(self, room, target, brief=None, accept=None, caller_id=None):
        """Calls a configured target for a warm transfer: they hear ``brief`` (and, with ``accept``,
        "press 1 to take this call"), then wait in <room>-consult, where no agent is. ``caller_id="caller"``
        shows them the caller's number where Twilio allows it."""
        body = {"action": "add-human", "target": target, "brief": brief, "callerId": caller_id}
        body["accept"] = None if accept is None else ("true" if accept else "false")
        return self._send(room, body)

    def human_status(self, room):
        """Where the person is: outcome dialing, ringing, answered, accepted, joined, gone, declined, failed; ready to join."""
        return self._send(room, {"action": "human-status"})

    def join_human(self, room):
        """Brings the person (ready) into this room; ``via`` says how: move or conference."""
        return self._send(room, {"action": "join-human"})

    def cancel_human(self, room):
        """Hangs up the person add_human called, before or after the join."""
        return self._send(room, {"action": "cancel-human"})

    def start_recording(self, room):
        """Starts Twilio recording the call, where the service lets agents (RECORD_CALLS on-request or always;
        403 recording-off otherwise, 409 already-recording); ``recordingSid`` names it. Ask the caller's
        consent first: the service cannot speak to them without breaking the stream."""
        return self._send(room, {"action": "start-recording"})

    def pause_recording(self, room, behavior=None):
        """Pauses the call's recording: the gap kept as "silence" (the default) or "skip"ped. Only Twilio's
        recording pauses; the agent still hears everything. 409 not-recording when nothing is recorded."""
        return self._send(room, {"action": "pause-recording", "behavior": behavior})

    def resume_recording(self, room):
        """Resumes the paused recording. 409 not-recording when nothing is recorded."""
        return self._send(room, {"action": "resume-recording"})

    def leave_voicemail(self, room, message=None, audio=None):
        """Leaves a voicemail, then hangs up: exactly one of ``message`` (text, spoken in the service's voice)
        or ``audio`` (a file VOICEMAIL_AUDIO names). The stream into the room ends at once. Best after the
        beep (``twilio.answeredBy`` = ``machine_end_beep``, with MachineDetection=DetectMessageEnd)."""
        return self._send(room, {"action": "leave-voicemail", "message": message, "audio": audio})

    def press_keys(self, room, digits):
        """Presses keys on the call, for a phone menu at the far end: up to 32 of 0-9, A-D, # and *, with
        ``w`` for half a second's pause and ``W`` for a second. The call's stream ENDS and comes back as the
        same participant (same identity, same room) about ``expectedMs`` plus a moment later; before it
        ends, the participant's ``twilio.rejoin`` attribute is "digits" and a message goes out on the
        ``twilio.rejoin`` topic. An agent session must outlive that: RoomOptions(close_on_disconnect=False)."""
        return self._send(room, {"action": "press-keys", "digits": digits})

    def warm_transfer(self, room, target, brief=None, accept=None, caller_id=None, answer_timeout=30.0, poll=0.5):
        """The whole warm transfer: call the target, wait for them to answer (and press 1, with ``accept``)
        within the deadline, which counts the brief, then join them to the caller. Not answered in time:
        their call is cancelled and the caller is still with the agent. Returns {"outcome", "via"?}.
        After "joined" the agent may leave; the call goes on (do not delete the room on close)."""
        self.add_human(room, target, brief=brief, accept=accept, caller_id=caller_id)
        deadline = time.monotonic() + answer_timeout + len(brief or "") * 0.07 + (8.0 if accept else 0.0)
        while True:
            status = self.human_status(room)
            if status.get("ready"):
                return {"outcome": "joined", "via": self.join_human(room).get("via")}
            if status.get("outcome") in ("gone", "declined", "failed", "no-human"):
                return {"outcome": status["outcome"]}
            if time.monotonic() + poll > deadline:
                self.cancel_human(room)
                return {"outcome": "not-answered"}
            time.sleep(poll)

    def _send(self, room, request):
        url = self._url or os.environ.get("CALL_CONTROL_URL")
        api_key = self._api_key or os.environ.get("LIVEKIT_API_KEY")
        api_secret = self._api_secret or os.environ.get("LIVEKIT_API_SECRET")
        if not (url and api_key and api_secret):
            raise RuntimeError(
                "CallControl needs CALL_CONTROL_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET (or url, api_key, api_secret)"
            )
        if not room:
            raise RuntimeError("CallControl needs the room: the agent is not in one yet")
        body = canonical_json(request)
        deadline = time.monotonic() + self.timeout
        attempt = 1
        while True:
            http_request = urllib.request.Request(
                url,
                data=body.encode("utf-8"),
                method="POST",
                headers={
                    "content-type": "application/json",
                    "authorization": "Bearer " + mint_token(api_key, api_secret, room, body),
                },
            )
            try:
                with urllib.request.urlopen(http_request, timeout=max(0.001, deadline - time.monotonic())) as response:
                    text = response.read().decode("utf-8")
                try:
                    return json.loads(text)
                except ValueError:
                    raise CallControlError(response.status, "bad-answer", "The answer was not JSON") from None
            except urllib.error.HTTPError as error:
                # 429: nothing was done, so one retry after Retry-After (at most 2 s) is safe, if it fits in the time left.
                wait = _retry_after(error.headers.get("Retry-After"))
                if error.code == 429 and attempt == 1 and time.monotonic() + wait < deadline:
                    attempt += 1
                    time.sleep(wait)
                    continue
                try:
                    answer = json.loads(error.read().decode("utf-8"))
                except ValueError:
                    answer = None
                detail = answer.get("error") if isinstance(answer, dict) else None
                detail = detail if isinstance(detail, dict) else {}
                targets = detail.get("targets")
                raise CallControlError(
                    error.code,
                    detail.get("code", "http-error"),
                    detail.get("message", "HTTP %d" % error.code),
                    detail.get("field"),
                    [t for t in targets if isinstance(t, str)] if isinstance(targets, list) else None,
                ) from None
            except (socket.timeout, TimeoutError):
                raise CallControlError(0, "timeout", "No answer in time; the call may have changed") from None
            except urllib.error.URLError as error:
                if isinstance(error.reason, (socket.timeout, TimeoutError)):
                    raise CallControlError(0, "timeout", "No answer in time; the call may have changed") from None
                raise CallControlError(0, "unreachable", "call-control could not be reached: %s" % error.reason) from None
