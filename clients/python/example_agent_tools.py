"""Example: the call actions as tools of a Python LiveKit agent
(livekit-agents 1.x, @function_tool). Copy it next to call_control.py.

    session.start(agent=PhoneAgent(instructions=...), room=ctx.room)
"""

import asyncio

from livekit.agents import Agent, RunContext, function_tool, get_job_context

from call_control import CallControl

# CALL_CONTROL_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET from the environment.
control = CallControl()


def _room():
    return get_job_context().room.name


class PhoneAgent(Agent):
    @function_tool()
    async def end_call(self, context: RunContext) -> str:
        """End the phone call, after saying goodbye."""
        await asyncio.to_thread(control.hangup, _room())
        return "The call has ended."

    @function_tool()
    async def transfer_call(self, context: RunContext, target: str, message: str = "") -> str:
        """Transfer the caller to a person.

        Args:
            target: who to transfer to: "billing" or "support".
            message: said to the caller just before the transfer.
        """
        await asyncio.to_thread(control.transfer, _room(), target, message or None)
        return "The caller is being connected to %s." % target

    @function_tool()
    async def return_to_menu(self, context: RunContext, result: str, order_id: str = "") -> str:
        """Hand the caller back to the phone menu with what you learned.

        Args:
            result: "resolved" or "unresolved".
            order_id: the order the caller asked about, if any.
        """
        fields = {"orderId": order_id} if order_id else None
        await asyncio.to_thread(control.return_to_flow, _room(), result, fields)
        return "The caller is back in the menu."

    @function_tool()
    async def consult_human(self, context: RunContext, target: str) -> str:
        """Call a person in to brief them before bringing them into this call.

        Args:
            target: "billing" or "support".
        """
        answer = await asyncio.to_thread(control.add_human, _room(), target)
        # Brief them in answer["consultRoom"], then move them into this room
        # with LiveKit's MoveParticipant (api.RoomService.move_participant).
        return "Calling %s into %s." % (target, answer["consultRoom"])
