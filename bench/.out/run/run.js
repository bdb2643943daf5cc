"use strict";
var __create = Object.create;
var __defProp = Object.defineProperty;
var __getOwnPropDesc = Object.getOwnPropertyDescriptor;
var __getOwnPropNames = Object.getOwnPropertyNames;
var __getProtoOf = Object.getPrototypeOf;
var __hasOwnProp = Object.prototype.hasOwnProperty;
var __copyProps = (to, from, except, desc) => {
  if (from && typeof from === "object" || typeof from === "function") {
    for (let key of __getOwnPropNames(from))
      if (!__hasOwnProp.call(to, key) && key !== except)
        __defProp(to, key, { get: () => from[key], enumerable: !(desc = __getOwnPropDesc(from, key)) || desc.enumerable });
  }
  return to;
};
var __toESM = (mod, isNodeMode, target) => (target = mod != null ? __create(__getProtoOf(mod)) : {}, __copyProps(
  // If the importer is in node compatibility mode or this is not an ESM
  // file that has been converted to a CommonJS file using a Babel-
  // compatible transform (i.e. "__esModule" has not been set), then set
  // "default" to the CommonJS "module.exports" for node compatibility.
  isNodeMode || !mod || !mod.__esModule ? __defProp(target, "default", { value: mod, enumerable: true }) : target,
  mod
));

// bench/run.ts
var import_node_child_process = require("node:child_process");
var import_node_fs = require("node:fs");
var import_node_os = __toESM(require("node:os"));
var import_node_path = __toESM(require("node:path"));

// tests/support/livekit-stand-in.ts
var import_protocol = require("@livekit/protocol");
var import_livekit_server_sdk = require("livekit-server-sdk");
var import_node_crypto = require("node:crypto");
var import_node_http = __toESM(require("node:http"));
var API_KEY = "APIstandinkey";
var API_SECRET = "stand-in-secret-that-is-long-enough-for-hs256-0123456789";
var LiveKitStandIn = class {
  requests = [];
  /** Requests refused before reaching a method (bad JWT, bad body). */
  refused = [];
  /** Participants by room, as ConnectTwilioCall and RoomService left them. */
  rooms = /* @__PURE__ */ new Map();
  dataMessages = [];
  /** Issued connect URLs, by room. */
  connectUrls = /* @__PURE__ */ new Map();
  behaviour = { kind: "ok" };
  /** Per-method overrides, e.g. make only RemoveParticipant fail. */
  methodBehaviour = {};
  connections = 0;
  /** Milliseconds from each request's arrival to its answer (the stand-in's own cost). */
  serviceTimes = [];
  server;
  sockets = /* @__PURE__ */ new Set();
  verifier = new import_livekit_server_sdk.TokenVerifier(API_KEY, API_SECRET);
  constructor() {
    this.server = import_node_http.default.createServer((req, res) => {
      const arrived = performance.now();
      res.on("finish", () => this.serviceTimes.push(performance.now() - arrived));
      void this.handle(req, res);
    });
    this.server.on("connection", (socket) => {
      this.connections += 1;
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
  }
  async start() {
    await new Promise((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return this;
  }
  get url() {
    return `http://127.0.0.1:${this.server.address().port}`;
  }
  get port() {
    return this.server.address().port;
  }
  reset() {
    this.requests.length = 0;
    this.refused.length = 0;
    this.rooms.clear();
    this.dataMessages.length = 0;
    this.connectUrls.clear();
    this.behaviour = { kind: "ok" };
    this.methodBehaviour = {};
  }
  calls(method) {
    return this.requests.filter((r) => r.method === method);
  }
  /** Closes every open connection, as a server does with idle keep-alive sockets. */
  async dropIdleConnections() {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((r) => setTimeout(r, 20));
  }
  async stop() {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(() => resolve()));
  }
  twirpError(res, status, code, msg) {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify({ code, msg }));
  }
  async handle(req, res) {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const path2 = req.url ?? "";
    const match = /^\/twirp\/livekit\.(Connector|RoomService)\/(\w+)$/.exec(path2);
    if (req.method !== "POST" || !match) {
      this.refused.push({ path: path2, reason: "not found" });
      return this.twirpError(res, 404, "bad_route", `no handler for ${req.method} ${path2}`);
    }
    const method = `${match[1]}.${match[2]}`;
    const auth = req.headers.authorization ?? "";
    if (!auth.startsWith("Bearer ")) {
      this.refused.push({ path: path2, reason: "no bearer token" });
      return this.twirpError(res, 401, "unauthenticated", "authorization header missing");
    }
    let claims;
    const token = auth.slice("Bearer ".length);
    try {
      claims = await this.verifier.verify(token);
    } catch {
      this.refused.push({ path: path2, reason: "invalid token" });
      return this.twirpError(res, 401, "unauthenticated", "invalid token");
    }
    if (!String(req.headers["content-type"] ?? "").startsWith("application/json")) {
      this.refused.push({ path: path2, reason: "content-type" });
      return this.twirpError(res, 415, "malformed", "expected application/json");
    }
    let json;
    try {
      json = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      this.refused.push({ path: path2, reason: "body not JSON" });
      return this.twirpError(res, 400, "malformed", "body is not JSON");
    }
    const behaviour = this.methodBehaviour[method] ?? this.behaviour;
    if (behaviour.kind === "delay") await new Promise((r) => setTimeout(r, behaviour.ms));
    try {
      const reply = this.dispatch(method, json, claims, token, behaviour);
      if (reply === void 0) return;
      if (behaviour.kind === "hang") return;
      if (behaviour.kind === "status") return this.twirpError(res, behaviour.status, behaviour.code, behaviour.msg);
      if (behaviour.kind === "raw") {
        res.writeHead(behaviour.status, { "content-type": behaviour.contentType });
        return void res.end(behaviour.body);
      }
      if (behaviour.kind === "malformed") {
        res.writeHead(200, { "content-type": "application/json" });
        return void res.end('{"connect_url": "wss://half');
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(reply));
    } catch (error) {
      const e = error;
      this.refused.push({ path: path2, reason: e.message });
      this.twirpError(res, e.status ?? 400, e.code ?? "invalid_argument", e.message);
    }
  }
  dispatch(method, json, claims, token, behaviour) {
    const fail = (status, code, message) => Object.assign(new Error(message), { status, code });
    const roomAdmin = (room) => {
      if (!claims.video?.roomAdmin || claims.video.room !== room) throw fail(403, "permission_denied", "roomAdmin grant for this room required");
    };
    switch (method) {
      case "Connector.ConnectTwilioCall": {
        if (!claims.video?.roomCreate) throw fail(403, "permission_denied", "roomCreate grant required");
        const request = import_protocol.ConnectTwilioCallRequest.fromJson(json, { ignoreUnknownFields: false });
        if (!request.roomName) throw fail(400, "invalid_argument", "room_name is required");
        this.requests.push({ method, token, claims, body: request });
        if (behaviour.kind !== "ok" && behaviour.kind !== "delay" && behaviour.kind !== "connect-url") return behaviour.kind === "hang" ? null : {};
        const url = behaviour.kind === "connect-url" ? behaviour.url : `wss://connector.livekit.test/twilio/${(0, import_node_crypto.randomUUID)()}`;
        this.connectUrls.set(request.roomName, url);
        const room = this.rooms.get(request.roomName) ?? /* @__PURE__ */ new Map();
        const identity = request.participantIdentity || `twilio-${(0, import_node_crypto.randomUUID)().slice(0, 8)}`;
        room.set(identity, { identity, attributes: { ...request.participantAttributes }, metadata: request.participantMetadata });
        this.rooms.set(request.roomName, room);
        return new import_protocol.ConnectTwilioCallResponse({ connectUrl: url }).toJson();
      }
      case "RoomService.UpdateParticipant": {
        const request = import_protocol.UpdateParticipantRequest.fromJson(json, { ignoreUnknownFields: false });
        roomAdmin(request.room);
        this.requests.push({ method, token, claims, body: request });
        if (behaviour.kind !== "ok" && behaviour.kind !== "delay") return behaviour.kind === "hang" ? null : {};
        const participant = this.rooms.get(request.room)?.get(request.identity);
        if (!participant) throw fail(404, "not_found", "participant not found");
        Object.assign(participant.attributes, request.attributes);
        for (const [key, value] of Object.entries(request.attributes)) if (value === "") delete participant.attributes[key];
        if (request.metadata) participant.metadata = request.metadata;
        return new import_protocol.ParticipantInfo({ identity: participant.identity, attributes: participant.attributes, metadata: participant.metadata }).toJson();
      }
      case "RoomService.RemoveParticipant": {
        const request = import_protocol.RoomParticipantIdentity.fromJson(json, { ignoreUnknownFields: false });
        roomAdmin(request.room);
        this.requests.push({ method, token, claims, body: request });
        if (behaviour.kind !== "ok" && behaviour.kind !== "delay") return behaviour.kind === "hang" ? null : {};
        const room = this.rooms.get(request.room);
        if (!room?.delete(request.identity)) throw fail(404, "not_found", "participant not found");
        return new import_protocol.RemoveParticipantResponse().toJson();
      }
      case "RoomService.SendData": {
        const request = import_protocol.SendDataRequest.fromJson(json, { ignoreUnknownFields: false });
        roomAdmin(request.room);
        this.requests.push({ method, token, claims, body: request });
        if (behaviour.kind !== "ok" && behaviour.kind !== "delay") return behaviour.kind === "hang" ? null : {};
        if (!this.rooms.has(request.room)) throw fail(404, "not_found", "room not found");
        this.dataMessages.push({ room: request.room, topic: request.topic ?? "", payload: Buffer.from(request.data).toString("utf8") });
        return new import_protocol.SendDataResponse().toJson();
      }
      default:
        throw fail(404, "bad_route", `no method ${method}`);
    }
  }
};

// bench/run.ts
var ROOT = import_node_path.default.resolve(__dirname, "..", "..", "..");
var WORKER = import_node_path.default.join(ROOT, "bench", "worker.cjs");
var IMPLS = {
  ours: import_node_path.default.join(ROOT, "dist", "functions", "incoming.js"),
  baseline: import_node_path.default.join(ROOT, "bench", ".out", "baseline", "incoming.js")
};
var COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 15);
var WARM_CALLS = Number(process.env.BENCH_WARM_CALLS ?? 5e3);
var CONCURRENT_CALLS = Number(process.env.BENCH_CONCURRENT_CALLS ?? 500);
function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}
var median = (v) => quantile(v, 0.5);
var ms = (v) => Number.isFinite(v) ? `${v.toFixed(v < 10 ? 2 : 1)} ms` : "n/a";
var ratio = (baseline, ours) => `${(baseline / ours).toFixed(1)}x`;
function runWorker(impl, mode, url, count = 1) {
  return new Promise((resolve, reject) => {
    const child = (0, import_node_child_process.spawn)(process.execPath, [WORKER, IMPLS[impl], mode, url, String(count)], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => out += d.toString());
    child.stderr.on("data", (d) => err += d.toString());
    child.on("exit", (code) => {
      const line = out.trim().split("\n").pop() ?? "";
      try {
        resolve(JSON.parse(line));
      } catch {
        reject(new Error(`worker ${impl} ${mode} exited ${code}: ${err.slice(0, 2e3)}`));
      }
    });
  });
}
function table(headers, rows) {
  const lines = [`| ${headers.join(" | ")} |`, `| ${headers.map(() => "---").join(" | ")} |`];
  for (const row of rows) lines.push(`| ${row.join(" | ")} |`);
  return lines.join("\n");
}
function dirBytes(dir) {
  let total = 0;
  const walk = (d) => {
    for (const entry of (0, import_node_fs.readdirSync)(d, { withFileTypes: true })) {
      const full = import_node_path.default.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else total += (0, import_node_fs.statSync)(full).size;
    }
  };
  walk(dir);
  return total;
}
function installBytes(names) {
  const seen = /* @__PURE__ */ new Set();
  const queue = [...names];
  let total = 0;
  while (queue.length) {
    const name = queue.shift();
    if (seen.has(name)) continue;
    seen.add(name);
    const dir = import_node_path.default.join(ROOT, "node_modules", name);
    try {
      const pkg = JSON.parse((0, import_node_fs.readFileSync)(import_node_path.default.join(dir, "package.json"), "utf8"));
      total += dirBytes(dir);
      queue.push(...Object.keys(pkg.dependencies ?? {}));
    } catch {
    }
  }
  return total;
}
var kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
async function main() {
  const stand = await new LiveKitStandIn().start();
  const out = [];
  const say = (s = "") => {
    out.push(s);
    console.log(s);
  };
  say(`# incoming: ours vs the documented way`);
  say();
  say(`Machine: ${import_node_os.default.cpus().length} x ${import_node_os.default.cpus()[0]?.model.trim()}, ${(import_node_os.default.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${import_node_os.default.platform()} ${import_node_os.default.release()}`);
  say();
  const cold = { ours: [], baseline: [] };
  for (let i = 0; i < COLD_RUNS; i += 1) {
    for (const impl of ["ours", "baseline"]) {
      stand.reset();
      const r = await runWorker(impl, "cold", stand.url);
      if (r.error || !r.streamUrl) throw new Error(`${impl} cold run failed: ${r.error ?? "no stream URL"}`);
      cold[impl].push(r);
    }
  }
  const coldRow = (label, pick) => {
    const o = cold.ours.map(pick);
    const b = cold.baseline.map(pick);
    return [label, `${ms(median(o))} (${ms(Math.min(...o))}-${ms(Math.max(...o))})`, `${ms(median(b))} (${ms(Math.min(...b))}-${ms(Math.max(...b))})`, ratio(median(b), median(o))];
  };
  say(`## Cold start (${COLD_RUNS} fresh processes each; median, min-max)`);
  say();
  say(
    table(
      ["", "ours", "baseline", "baseline / ours"],
      [
        coldRow("module load (twilio already loaded)", (r) => r.loadMs),
        coldRow("first request", (r) => r.firstMs),
        coldRow("load + first request", (r) => r.loadMs + r.firstMs)
      ]
    )
  );
  say();
  say(`## Warm (${WARM_CALLS} sequential invocations in one process)`);
  say();
  const warmRows = [];
  for (const impl of ["ours", "baseline"]) {
    stand.reset();
    stand.serviceTimes.length = 0;
    const before = stand.connections;
    const r = await runWorker(impl, "warm", stand.url, WARM_CALLS);
    const service = stand.serviceTimes.slice(-WARM_CALLS);
    const overhead = r.latencies.map((l, i) => l - (service[i] ?? 0));
    warmRows.push([impl, ms(median(r.latencies)), ms(median(overhead)), ms(quantile(overhead, 0.99)), ms(median(service)), String(stand.connections - before)]);
  }
  say(table(["", "latency median", "overhead median", "overhead p99", "stand-in median", "connections opened"], warmRows));
  say();
  say(`## Concurrency (${CONCURRENT_CALLS} invocations at once)`);
  say();
  const concRows = [];
  for (const impl of ["ours", "baseline"]) {
    stand.reset();
    const r = await runWorker(impl, "concurrent", stand.url, CONCURRENT_CALLS);
    const issued = new Set(stand.connectUrls.values());
    const urls = r.urls.filter((u) => !!u);
    const distinct = new Set(urls).size;
    const allIssued = urls.every((u) => issued.has(u));
    const matched = r.urls.filter((u, i) => u && stand.connectUrls.get(`call-CA${(i + 1).toString(16).padStart(32, "0")}`) === u).length;
    concRows.push([impl, `${urls.length}/${CONCURRENT_CALLS}`, String(distinct), `${matched}/${CONCURRENT_CALLS}${allIssued ? "" : " (unknown URLs!)"}`, ms(median(r.latencies)), ms(quantile(r.latencies, 0.99))]);
  }
  say(table(["", "answered with a stream", "distinct URLs", "URL matches its room", "median", "p99"], concRows));
  say();
  say(`## LiveKit never answers`);
  say();
  const hangRows = [];
  for (const impl of ["ours", "baseline"]) {
    stand.reset();
    stand.behaviour = { kind: "hang" };
    const r = await runWorker(impl, "hang", stand.url);
    const what = r.fallback ? "spoken fallback TwiML (200)" : r.error ? `no TwiML: ${r.error.split("\n")[0].slice(0, 80)}` : "TwiML";
    hangRows.push([impl, ms(r.firstMs), what]);
  }
  say(table(["", "time until the function answers", "what Twilio gets"], hangRows));
  say();
  say(`## Bundle`);
  say();
  const oursFn = (0, import_node_fs.statSync)(IMPLS.ours).size;
  const baseFn = (0, import_node_fs.statSync)(IMPLS.baseline).size;
  const sdkInstall = installBytes(["livekit-server-sdk", "@livekit/protocol"]);
  say(
    table(
      ["", "compiled function", "installed on Twilio besides the runtime"],
      [
        ["ours", kib(oursFn), "0 (livekit-server-sdk is inside the bundle)"],
        ["baseline", kib(baseFn), `${kib(sdkInstall)} (livekit-server-sdk, @livekit/protocol and their dependencies)`]
      ]
    )
  );
  await stand.stop();
}
main().catch((error) => {
  console.error(error);
  process.exit(1);
});
