/**
 * npm run bind -- --domain <service>.twil.io | --url https://<host>
 *                 [--number +1... ...] [--flow FW...] [--fallback-url URL | --no-fallback]
 *                 [--replace-foreign] [--dry-run] [--yes] [--env FILE] [--routes FILE] [--undo-file FILE]
 * npm run bind -- --undo [--number +1... ...] [--replace-foreign] [--dry-run] [--yes] [--env FILE] [--undo-file FILE]
 *
 * Shows what each number points at now and what it will, asks, then binds
 * (./bind). Credentials are ACCOUNT_SID and AUTH_TOKEN in .env, read as the
 * deploy reads them (./env-file).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import twilio from 'twilio';
import { loadRoutes } from '../config/routes';
import { BindIo, NumbersApi, runBind, runUndo } from './bind';
import { readBindArgs, USAGE } from './bind-args';
import { UndoRecord } from './bind-undo';
import { planFallbackAssets } from './fallback-assets';
import { runCli, UsageError } from './cli';
import { readEnvFile } from './env-file';

/** The confirmation: a y/N question on a terminal; without one, only --yes applies. */
async function ask(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) {
    console.log('not a terminal, so nobody can confirm: run again with --yes to apply, or --dry-run to only look');
    return false;
  }
  const terminal = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await terminal.question(question)).trim());
  } finally {
    terminal.close();
  }
}

/** GETs a fallback URL as Twilio will (the method bind sets). */
async function checkFallback(url: string): Promise<{ status: number } | { error: string }> {
  try {
    const response = await fetch(url, { method: 'GET', redirect: 'manual', signal: AbortSignal.timeout(5000) });
    await response.body?.cancel();
    return { status: response.status };
  } catch (error) {
    const e = error as { cause?: { code?: string }; name?: string };
    return { error: e.cause?.code ?? (e.name === 'TimeoutError' ? 'no answer in 5 s' : (e.name ?? 'error')) };
  }
}

async function main(): Promise<number> {
  const args = readBindArgs(process.argv.slice(2));
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  const file = readEnvFile(args.env);
  if (!file)
    throw new UsageError(`${args.env} not found (copy .env.example to .env and fill in ACCOUNT_SID and AUTH_TOKEN, or pass --env FILE)`);
  const { ACCOUNT_SID: accountSid = '', AUTH_TOKEN: authToken = '' } = file.values;
  if (!accountSid || !authToken)
    throw new UsageError(`ACCOUNT_SID and AUTH_TOKEN must be set in ${args.env}: the Account SID and Auth Token from the Twilio Console`);
  if (!/^AC[0-9a-f]{32}$/i.test(accountSid))
    throw new UsageError(
      `ACCOUNT_SID in ${args.env} is not an Account SID (AC followed by 32 hex digits): copy it from the Twilio Console`,
    );

  const routes = loadRoutes(() => (existsSync(args.routes) ? readFileSync(args.routes, 'utf8') : undefined));
  if (routes.error) throw new Error(`${args.routes}: ${routes.error}; fix it (npm run routes:check) and run bind again`);
  // Read before anything is sent: a record bind cannot trust stops it here.
  const undo = UndoRecord.read(args.undoFile);
  const client = twilio(accountSid, authToken, { timeout: 10_000 }) as unknown as NumbersApi;
  const io: BindIo = { print: (line) => console.log(line), ask, checkFallback };
  const common = {
    accountSid,
    numbers: args.numbers,
    routes: routes.table,
    replaceForeign: args.replaceForeign,
    yes: args.yes,
    dryRun: args.dryRun,
    undo,
  };
  if (args.undo) return runUndo(client, common, io);
  const flow = args.flowSid === undefined ? undefined : { accountSid, flowSid: args.flowSid };
  // The assets the build makes from this .env and routes file: which one each route's numbers fall back to.
  const fallback =
    args.fallback.kind === 'asset'
      ? { kind: 'asset' as const, byRoute: planFallbackAssets(file.values, routes.table.routes).byRoute }
      : args.fallback;
  return runBind(
    client,
    { ...common, destination: { origin: args.origin, fallback, flow }, callerIds: file.values.OUTBOUND_CALLER_IDS ?? '' },
    io,
  );
}

runCli(USAGE, main);
