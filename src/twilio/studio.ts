/**
 * Round trips with Twilio Studio. A flow's TwiML Redirect widget sends the
 * call to `incoming?FlowSid={{flow.flow_sid}}`; when the stream ends (or
 * LiveKit cannot take the call) the call is redirected to the flow's return
 * URL, whose extra query parameters Studio exposes to the flow as
 * `{{widgets.<redirect widget>.ConnectorResult}}` and `.ConnectorReason`.
 */

const FLOW_SID = /^FW[0-9a-f]{32}$/;
const ACCOUNT_SID = /^AC[0-9a-f]{32}$/;
const STUDIO_RETURN = /^https:\/\/webhooks\.twilio\.com\/v1\/Accounts\/AC[0-9a-f]{32}\/Flows\/FW[0-9a-f]{32}\?FlowEvent=return(&|$)/;

/** Query parameter a flow's TwiML Redirect URL carries. */
export const FLOW_SID_PARAM = 'FlowSid';

/** How the call left the LiveKit room, as the flow sees it in `ConnectorResult`. */
export type ConnectorResult = 'stream-ended' | 'unavailable';

/** The flow's return URL when the request came from a Studio TwiML Redirect. */
export function studioReturnUrl(event: Record<string, unknown>): string | undefined {
  const flowSid = event[FLOW_SID_PARAM];
  const accountSid = event.AccountSid;
  if (typeof flowSid !== 'string' || typeof accountSid !== 'string') return undefined;
  if (!FLOW_SID.test(flowSid) || !ACCOUNT_SID.test(accountSid)) return undefined;
  return flowReturnUrl(accountSid, flowSid);
}

/** Studio's URL that hands a call back to the flow that sent it. */
export function flowReturnUrl(accountSid: string, flowSid: string): string {
  return `https://webhooks.twilio.com/v1/Accounts/${accountSid}/Flows/${flowSid}?FlowEvent=return`;
}

/** The flow a return URL belongs to, or ''. */
export function flowSidOf(url: string): string {
  return isStudioReturnUrl(url) ? (/\/Flows\/(FW[0-9a-f]{32})\?/.exec(url)?.[1] ?? '') : '';
}

export function isStudioReturnUrl(url: string): boolean {
  return STUDIO_RETURN.test(url);
}

/** The return URL carrying the result (and, for failures, a reason) for the flow. */
export function returnWith(url: string, result: ConnectorResult, reason?: string): string {
  return withFlowParams(url, reason ? { ConnectorResult: result, ConnectorReason: reason } : { ConnectorResult: result });
}

/** The return URL with query parameters Studio exposes to the flow as widget variables. */
export function withFlowParams(url: string, params: Record<string, string>): string {
  return `${url}&${new URLSearchParams(params).toString()}`;
}
