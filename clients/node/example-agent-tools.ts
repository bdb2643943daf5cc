/**
 * Example: the call actions as tools of a Node.js LiveKit agent
 * (@livekit/agents 1.9, llm.tool with zod 4 parameters). Not part of the
 * service's build; copy it next to call-control.ts in your agent:
 *
 *   const agent = new voice.Agent({ instructions, tools: [...callTools(), ...yourTools] });
 *   // closeOnDisconnect: false, or press_keys ends the session (below); this connects the room
 *   await session.start({ agent, room: ctx.room, inputOptions: { closeOnDisconnect: false } });
 *
 * What you set:
 * - `inputOptions: { closeOnDisconnect: false }` in session.start, as above.
 *   press_keys ENDS the phone participant's stream: Twilio can only play
 *   keys by replacing the call's TwiML. A moment later the stream comes back
 *   as a new participant of the same identity in the same room, and RoomIO
 *   links to it again. But RoomInputOptions.closeOnDisconnect defaults to
 *   true, which closes the session when the linked participant leaves
 *   (CLIENT_INITIATED, ROOM_DELETED, USER_REJECTED), so without it the agent
 *   is gone before the stream is back. With it, a hang-up does not close the
 *   session either: the job ends when the room does, or call session.close().
 * - Do not delete the room when the agent's session ends: after a warm
 *   transfer the caller and the person talk on in it without the agent.
 * - CALL_CONTROL_URL (https://<service>.twil.io/call-control), LIVEKIT_API_KEY
 *   and LIVEKIT_API_SECRET in the agent's environment. They are read when a
 *   tool runs, so loading .env after the imports is fine.
 * - TARGETS: the target names the service knows (TRANSFER_TARGETS, or the
 *   route's transferTargets).
 * - The import below: './call-control.js' is what tsc-compiled projects need
 *   (ES module or CommonJS). A project that runs .ts files directly (Node's
 *   type stripping, as LiveKit's agent-starter-node does) writes './call-control.ts'.
 *
 * Tools are built before session.start connects the room, so the room's name
 * is read when a tool runs: from `ctx` if given, else from the job running the
 * tool (getJobContext). Optional parameters are nullish: OpenAI's strict tool
 * schemas need every property listed as required, and null means "not given".
 * A refusal reaches the model as a ToolError, a sentence it can act on.
 */
import { getJobContext, type JobContext, llm } from '@livekit/agents';
import { z } from 'zod';
import { CallControl, CallControlError } from './call-control.js';

const TARGETS = ['billing', 'support'] as const;

export function callTools(ctx?: JobContext) {
  const control = new CallControl();
  const act = async (action: (room: string) => Promise<unknown>, done: string): Promise<string> => {
    const room = (ctx ?? getJobContext()).room.name;
    if (!room) throw new llm.ToolError('Not connected to the call yet; nothing was done. Try again in a moment.');
    try {
      await action(room);
      return done;
    } catch (error) {
      throw error instanceof CallControlError ? new llm.ToolError(error.sentence) : error;
    }
  };

  return [
    llm.tool({
      name: 'end_call',
      description: 'End the phone call, after saying goodbye.',
      execute: () => act((room) => control.hangup(room), 'The call has ended.'),
    }),
    llm.tool({
      name: 'transfer_call',
      description: 'Transfer the caller to a person. Tell the caller first.',
      parameters: z.object({
        target: z.enum(TARGETS).describe('who to transfer to'),
        message: z.string().nullish().describe('said to the caller just before the transfer; null for none'),
      }),
      execute: ({ target, message }) =>
        act((room) => control.transfer(room, target, message), `The caller is being connected to ${target}.`),
    }),
    llm.tool({
      name: 'return_to_menu',
      description: 'Hand the caller back to the phone menu with what you learned.',
      parameters: z.object({
        result: z.enum(['resolved', 'unresolved']),
        orderId: z.string().nullish().describe('the order the caller asked about; null if none'),
      }),
      execute: ({ result, orderId }) =>
        act((room) => control.returnToFlow(room, result, orderId ? { orderId } : null), 'The caller is back in the menu.'),
    }),
    llm.tool({
      name: 'warm_transfer',
      description:
        'Bring a person into this call, telling them first what it is about. Before calling this, tell the caller ' +
        'you are fetching someone and they may hear silence for up to half a minute.',
      parameters: z.object({
        target: z.enum(TARGETS).describe('who to bring in'),
        brief: z.string().nullish().describe('one or two sentences the person hears before joining; null for none'),
      }),
      execute: ({ target, brief }) =>
        act(async (room) => {
          // The person must press 1, so a voicemail greeting never joins the caller.
          const result = await control.warmTransfer(room, target, { brief, accept: true });
          if (result.outcome !== 'joined')
            throw new llm.ToolError(
              `${target} could not be reached (${result.outcome}); nothing changed. Offer the caller something else.`,
            );
        }, `${target} has joined the call. Say goodbye to both; the call goes on without you.`),
    }),
    llm.tool({
      name: 'press_keys',
      description:
        'Press keys on the phone, to answer a phone menu at the other end: for "press 2 for sales", press 2. ' +
        'The line goes quiet for a moment while they play.',
      parameters: z.object({
        digits: z.string().describe('the keys: 0-9, * and #, up to 32; w waits half a second between keys'),
      }),
      execute: ({ digits }) => act((room) => control.pressKeys(room, digits), `Pressed ${digits}. Listen for what the menu says next.`),
    }),
    llm.tool({
      name: 'leave_voicemail',
      description: 'Leave a voicemail when an answering machine took the call, after its beep. The message is spoken, then the call ends.',
      parameters: z.object({
        message: z.string().describe('the whole message: who is calling, why, and how to call back'),
      }),
      execute: ({ message }) =>
        act((room) => control.leaveVoicemail(room, { message }), 'The voicemail is being left; the call ends after it.'),
    }),
  ];
}
