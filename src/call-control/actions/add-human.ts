/**
 * `add-human`: the target is called into the consult room through
 * outbound's own steps and guards, with no agent dispatched. One human per
 * target and call: asking again while that call lives returns it.
 */
import { describeProblems } from '../../config/env-reader';
import { prepare, sessionAndCall } from '../../outbound/place-call';
import { ROOM_BUDGET_MS } from '../../outbound/steps';
import { misconfigured } from '../../twilio/reply';
import { findCall } from '../find-call';
import { CallAction, ok } from './action';
import { consultRoom } from './consult-room';
import { targetAddress } from './targets';

export const addHuman: CallAction = {
  takes: ['target'],
  needs: ['target'],
  async run(context, request) {
    const { room, settings, deps, budget } = context;
    const target = request.target!;
    const address = targetAddress(context, target);
    if (typeof address !== 'string') return address;
    if (!settings.outbound.ok)
      return { reply: misconfigured(describeProblems(settings.outbound.problems)).reply, fields: { outcome: 'error' } };
    const consult = consultRoom(room);
    const identity = `human-${target}`;
    const calling = (callSid: string, outcome: string) =>
      ok({ action: 'add-human', outcome: 'calling', consultRoom: consult, participantIdentity: identity, callSid }, outcome);

    const existing = await findCall(
      deps.rooms(settings.liveKit, budget.share(ROOM_BUDGET_MS, 100, 200)),
      consult,
      settings.service.authToken,
    );
    if (typeof existing === 'object' && existing.identity === identity) return calling(existing.callSid, 'already-calling');

    const event = { To: address, RoomName: consult, ParticipantIdentity: identity, ParticipantName: target };
    const prepared = prepare(settings.outbound.value, event, deps, (routed) => ({ ...routed, agentNames: [] }));
    if ('reply' in prepared) return prepared;
    const placed = await sessionAndCall(prepared, deps, budget);
    return 'reply' in placed ? placed : calling(placed.body.callSid!, 'calling');
  },
};
