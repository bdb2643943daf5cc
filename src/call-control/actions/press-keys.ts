/**
 * `press-keys`: Twilio plays the keys on the call (`<Play digits>`), as a
 * phone menu on the far end expects, and the call's stream comes back into
 * the same room as the same participant. Twilio's stream cannot carry DTMF
 * back (it takes only `media`, `mark` and `clear`), so the call's TwiML is
 * replaced, which ends the stream. In order:
 *   1. what the participant was is kept in the call's journal (../../digits/rejoin-stash);
 *   2. the room is told the stream is coming back (`twilio.rejoin`), before it ends;
 *   3. the call is updated: `<Play digits>`, then `<Redirect>` to /rejoin,
 *      which opens a fresh session the way `incoming` does.
 * No session is opened before the update: an OUTBOUND one joins its
 * participant at once and would evict the live one of the same identity.
 */
import { callJournal } from '../../journal/call-journal';
import { ROOM_BUDGET_MS, SYNC_BUDGET_MS } from '../../outbound/steps';
import { playingMs } from '../../digits/digits';
import { MAX_STASH_CHARS, REJOIN_ATTRIBUTE, REJOIN_TOPIC, rejoinUrl, RejoinStash, sealStash } from '../../digits/rejoin-stash';
import { flowReturnUrl, returnWith } from '../../twilio/studio';
import { digitsTwiml } from '../../twilio/twiml';
import { retryLaterReply } from '../../twilio/reply';
import { ActionContext, CallAction, ok, refuse } from './action';
import { routeOf } from './targets';
import { changeCall } from './twilio-update';

/** The `<Connect action>` the call's first TwiML had, so the stream that comes back ends the same way. */
function connectActionOf(context: ActionContext): string {
  const { call, settings } = context;
  if (call.flowSid) return returnWith(flowReturnUrl(call.accountSid, call.flowSid), 'stream-ended');
  const base = call.attributes['twilio.direction'] === 'inbound' ? settings.connectActions.inbound : settings.connectActions.outbound;
  if (base === undefined) return '';
  return routeOf(context)?.connectActionUrl ?? base;
}

export const pressKeys: CallAction = {
  takes: ['digits'],
  needs: ['digits'],
  async run(context, request) {
    const { call, room, settings, deps, budget } = context;
    const digits = request.digits!;
    const { [REJOIN_ATTRIBUTE]: pending, ...attributes } = call.attributes;
    // A second update would cut the first keys off, and their stream is already on its way back.
    if (pending) return refuse(409, 'keys-pending', 'Keys are being pressed on this call already; try again when its stream is back');
    const stash: RejoinStash = {
      room,
      identity: call.identity,
      name: call.name,
      metadata: call.metadata,
      attributes,
      action: connectActionOf(context),
    };
    const sealed = sealStash(settings.service.authToken, stash);
    if (sealed.text.length > MAX_STASH_CHARS)
      return refuse(413, 'call-too-large', "The call's participant carries too much metadata and attributes to bring back after the keys");
    const key = `rejoin-${Date.now()}`;
    const kept = await callJournal(deps.twilio, call.callSid).add(key, { ...sealed }, budget.share(SYNC_BUDGET_MS, 300, 500));
    if (kept === 'failed')
      return {
        reply: retryLaterReply(503, {
          code: 'sync-unavailable',
          message:
            'The call could not be prepared for its stream to come back (Twilio Sync did not answer), so no keys were pressed; try again',
        }),
        fields: { outcome: 'sync-failed' },
      };

    const rooms = deps.rooms(settings.liveKit, budget.share(ROOM_BUDGET_MS, 100, 200));
    const told = await rooms.setAttributes(room, call.identity, { [REJOIN_ATTRIBUTE]: 'digits' });
    const message = JSON.stringify({ callSid: call.callSid, identity: call.identity, reason: 'digits', expectedMs: playingMs(digits) });
    const said = await rooms.sendData(room, REJOIN_TOPIC, message);

    const update = await changeCall(context, call.callSid, {
      twiml: digitsTwiml(digits, rejoinUrl(settings.service.origin, room, call.identity, key)),
    });
    // Twilio's answer lost: the keys may be playing, and the stream coming back; the room keeps being told so.
    const mayHaveChanged = typeof update === 'object' && update.fields.reason === 'twilio-timeout';
    if (update !== 'done' && !mayHaveChanged) {
      // The stream runs on: the participant is not coming back, because it never left.
      await rooms.setAttributes(room, call.identity, { [REJOIN_ATTRIBUTE]: '' });
      await rooms.sendData(
        room,
        REJOIN_TOPIC,
        JSON.stringify({ callSid: call.callSid, identity: call.identity, reason: 'digits', cancelled: true }),
      );
      return update === 'ended' ? refuse(409, 'call-over', 'The call has already ended') : update;
    }
    if (update !== 'done') return update;
    return {
      ...ok({ action: 'press-keys', outcome: 'pressed', digits: digits.length, expectedMs: playingMs(digits) }, 'pressed'),
      fields: { outcome: 'pressed', digits: digits.length, told, said },
    };
  },
};
