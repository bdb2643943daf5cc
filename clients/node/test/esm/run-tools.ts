/**
 * Runs example-agent-tools.ts inside @livekit/agents itself, as an ES module
 * agent would (tests/e2e/agent-framework.test.ts drives it):
 *
 * - the module is imported before the environment has CALL_CONTROL_URL and
 *   LIVEKIT_*, as when an agent loads .env after its imports;
 * - each step is one job: a JobContext built the way the framework's console
 *   mode builds one, around a real rtc-node Room whose name is undefined
 *   until it "connects", and the tools are built before that, as
 *   `new voice.Agent(...)` before `session.start` builds them;
 * - a real AgentSession with the framework's FakeLLM asks for the tool call
 *   with the arguments as JSON text (null for "not given"), so the voice
 *   pipeline parses, validates, runs it and turns the result or a ToolError
 *   into the function_call_output the model would see.
 *
 * Usage: node dist/run-tools.js '<plan JSON>'; prints one line "RESULTS <json>".
 */
import { initializeLogger, JobContext, JobProcess, llm, runWithJobContextAsync, type RunningJobInfo, voice } from '@livekit/agents';
import { Room } from '@livekit/rtc-node';
import { callTools } from './example-agent-tools.js';

interface Plan {
  env: Record<string, string>;
  steps: { tool: string; args: Record<string, unknown>; room: string; passCtx?: boolean }[];
}

const envAtImport = ['CALL_CONTROL_URL', 'LIVEKIT_API_KEY', 'LIVEKIT_API_SECRET'].filter((name) => process.env[name]);
const plan = JSON.parse(process.argv[2] ?? '') as Plan;
Object.assign(process.env, plan.env);
initializeLogger({ pretty: false, level: 'warn' });

const schemas = Object.fromEntries(callTools().map((tool) => [tool.name, llm.toJsonSchema(tool.parameters, true, true)]));

// Time each HTTP exchange too, to tell the framework's share from call-control's.
let httpMs = 0;
const realFetch = globalThis.fetch;
globalThis.fetch = async (...args) => {
  const started = performance.now();
  try {
    return await realFetch(...args);
  } finally {
    httpMs += performance.now() - started;
  }
};
const round = (ms: number) => Math.round(ms * 10) / 10;

const noInference: ConstructorParameters<typeof JobContext>[5] = {
  doInference: async () => {
    throw new Error('no local inference in this test');
  },
};

async function runStep(step: Plan['steps'][number]) {
  const room = new Room();
  // A fake job, as console mode makes one: no room model, so nothing but the Room can name it.
  const info = {
    acceptArguments: { name: '', identity: 'agent', metadata: '' },
    job: { id: `job-${step.room}`, enableRecording: false },
    url: '',
    token: '',
    workerId: 'test',
    fakeJob: true,
  } as unknown as RunningJobInfo;
  const ctx = new JobContext(
    new JobProcess(),
    info,
    room,
    () => {},
    () => {},
    noInference,
  );
  return runWithJobContextAsync(ctx, async () => {
    const tools = callTools(step.passCtx ? ctx : undefined);
    const nameWhenBuilt = room.name ?? null;
    const fake = new voice.testing.FakeLLM([{ input: 'go', toolCalls: [{ name: step.tool, args: step.args }] }]);
    const session = new voice.AgentSession({ llm: fake });
    await session.start({ agent: new voice.Agent({ instructions: 'You answer phone calls.', tools }) });
    // What Room.connect does when LiveKit answers: the room's info, its name with it, arrives.
    Object.assign(room, { info: { name: step.room } });
    httpMs = 0;
    const started = performance.now();
    const run = await session.run({ userInput: 'go' }).wait();
    const ms = round(performance.now() - started);
    await session.close();
    const call = run.events.find((e) => e.type === 'function_call');
    const output = run.events.find((e) => e.type === 'function_call_output');
    return {
      tool: step.tool,
      nameWhenBuilt,
      arguments: call?.type === 'function_call' ? call.item.args : null,
      output: output?.type === 'function_call_output' ? output.item.output : null,
      isError: output?.type === 'function_call_output' ? output.item.isError : null,
      ms,
      httpMs: round(httpMs),
    };
  });
}

const results = [];
for (const step of plan.steps) results.push(await runStep(step));
console.log(`RESULTS ${JSON.stringify({ envAtImport, schemas, results })}`);
