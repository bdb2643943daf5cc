/**
 * Example: the call actions as tools of a Node.js LiveKit agent
 * (@livekit/agents 1.x, llm.tool with zod parameters). Not part of the
 * service's build; copy it next to call-control.ts in your agent.
 *
 *   const agent = new voice.Agent({ instructions, tools: callTools(ctx) });
 */
import { type JobContext, llm } from '@livekit/agents';
import { z } from 'zod';
import { CallControl } from './call-control';

// CALL_CONTROL_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET from the environment.
const control = new CallControl();

export function callTools(ctx: JobContext) {
  const room = ctx.room.name!;
  return {
    end_call: llm.tool({
      description: 'End the phone call, after saying goodbye.',
      execute: async () => {
        await control.hangup(room);
        return 'The call has ended.';
      },
    }),
    transfer_call: llm.tool({
      description: 'Transfer the caller to a person. Tell the caller first.',
      parameters: z.object({
        target: z.enum(['billing', 'support']).describe('who to transfer to'),
        message: z.string().optional().describe('said to the caller just before the transfer'),
      }),
      execute: async ({ target, message }) => {
        await control.transfer(room, target, message);
        return `The caller is being connected to ${target}.`;
      },
    }),
    return_to_menu: llm.tool({
      description: 'Hand the caller back to the phone menu with what you learned.',
      parameters: z.object({ result: z.enum(['resolved', 'unresolved']), orderId: z.string().optional() }),
      execute: async ({ result, orderId }) => {
        await control.returnToFlow(room, result, orderId ? { orderId } : undefined);
        return 'The caller is back in the menu.';
      },
    }),
    consult_human: llm.tool({
      description: 'Call a person in to brief them before bringing them into this call.',
      parameters: z.object({ target: z.enum(['billing', 'support']) }),
      execute: async ({ target }) => {
        const { consultRoom } = await control.addHuman(room, target);
        // Brief them in consultRoom, then move them into this room with
        // LiveKit's MoveParticipant (RoomServiceClient.moveParticipant).
        return `Calling ${target} into ${String(consultRoom)}.`;
      },
    }),
  };
}
