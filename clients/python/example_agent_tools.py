"""Example: the call actions as tools of a Python LiveKit agent
(livekit-agents 1.x, @function_tool). Copy it next to call_control.py.

    from livekit.agents import room_io

    # close_on_disconnect=False, or press_keys ends the session (below)
    await session.start(
        agent=PhoneAgent(instructions=...),
        room=ctx.room,
        room_options=room_io.RoomOptions(close_on_disconnect=False),
    )

What you set:
- ``room_options=room_io.RoomOptions(close_on_disconnect=False)`` in
  session.start, as above (livekit-agents before 1.3, which has no
  RoomOptions: ``room_input_options=RoomInputOptions(close_on_disconnect=False)``).
  press_keys ENDS the phone participant's stream: Twilio can only play keys
  by replacing the call's TwiML. A moment later the stream comes back as a
  new participant of the same identity in the same room, and RoomIO links to
  it again. But close_on_disconnect defaults to True, which closes the
  session when the linked participant leaves (CLIENT_INITIATED,
  ROOM_DELETED, USER_REJECTED), so without it the agent is gone before the
  stream is back. With it, a hang-up does not close the session either: the
  job ends when the room does, or call session.aclose().
- CALL_CONTROL_URL (https://<service>.twil.io/call-control), LIVEKIT_API_KEY
  and LIVEKIT_API_SECRET in the agent's environment. They are read when a
  tool runs, so load_dotenv() after the imports is fine.
- Target: the target names the service knows (TRANSFER_TARGETS, or the
  route's transferTargets).
- Do not delete the room when the session closes: after a warm transfer the
  caller and the person talk on in it without the agent.

The room is read when a tool runs (get_job_context()), never at import or
when the agent is built: the room is not connected yet then. Optional
parameters are ``Optional[str] = None``: strict tool schemas list them as
required and nullable, and None means "not given". A refusal reaches the
model as a ToolError, a sentence it can act on.
"""

import asyncio
from typing import Literal, Optional

from livekit.agents import Agent, RunContext, ToolError, function_tool, get_job_context

from call_control import CallControl, CallControlError

Target = Literal["billing", "support"]

_control = None


async def _act(method, *args):
    global _control
    _control = _control or CallControl()
    room = get_job_context().room.name
    if not room:
        raise ToolError("Not connected to the call yet; nothing was done. Try again in a moment.")
    try:
        return await asyncio.to_thread(getattr(_control, method), room, *args)
    except CallControlError as error:
        raise ToolError(error.sentence) from None


class PhoneAgent(Agent):
    @function_tool()
    async def end_call(self, context: RunContext) -> str:
        """End the phone call, after saying goodbye."""
        await _act("hangup")
        return "The call has ended."

    @function_tool()
    async def transfer_call(self, context: RunContext, target: Target, message: Optional[str] = None) -> str:
        """Transfer the caller to a person. Tell the caller first.

        Args:
            target: who to transfer to.
            message: said to the caller just before the transfer; null for none.
        """
        await _act("transfer", target, message)
        return "The caller is being connected to %s." % target

    @function_tool()
    async def return_to_menu(
        self, context: RunContext, result: Literal["resolved", "unresolved"], order_id: Optional[str] = None
    ) -> str:
        """Hand the caller back to the phone menu with what you learned.

        Args:
            result: whether the caller's question was resolved.
            order_id: the order the caller asked about; null if none.
        """
        await _act("return_to_flow", result, {"orderId": order_id} if order_id else None)
        return "The caller is back in the menu."

    @function_tool()
    async def warm_transfer(self, context: RunContext, target: Target, brief: Optional[str] = None) -> str:
        """Bring a person into this call, telling them first what it is about. Before calling this, tell the
        caller you are fetching someone and they may hear silence for up to half a minute.

        Args:
            target: who to bring in.
            brief: one or two sentences the person hears before joining; null for none.
        """
        # The person must press 1, so a voicemail greeting never joins the caller.
        result = await _act("warm_transfer", target, brief, True)
        if result["outcome"] != "joined":
            raise ToolError("%s could not be reached (%s); nothing changed. Offer the caller something else." % (target, result["outcome"]))
        return "%s has joined the call. Say goodbye to both; the call goes on without you." % target

    @function_tool()
    async def press_keys(self, context: RunContext, digits: str) -> str:
        """Press keys on the phone, to answer a phone menu at the other end: for "press 2 for sales", press 2.
        The line goes quiet for a moment while they play.

        Args:
            digits: the keys: 0-9, * and #, up to 32; w waits half a second between keys.
        """
        await _act("press_keys", digits)
        return "Pressed %s. Listen for what the menu says next." % digits

    @function_tool()
    async def leave_voicemail(self, context: RunContext, message: str) -> str:
        """Leave a voicemail when an answering machine took the call, after its beep. The message is spoken,
        then the call ends.

        Args:
            message: the whole message: who is calling, why, and how to call back.
        """
        await _act("leave_voicemail", message)
        return "The voicemail is being left; the call ends after it."
