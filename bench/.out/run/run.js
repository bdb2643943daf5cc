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

// src/lib/env.ts
var EnvReader = class {
  constructor(env) {
    this.env = env;
  }
  env;
  problems = [];
  /** The trimmed value, or '' when unset. */
  text(name) {
    const value = this.env[name];
    return typeof value === "string" ? value.trim() : "";
  }
  required(name) {
    const value = this.text(name);
    if (!value) this.problem(name, "is required");
    return value;
  }
  /** Comma-separated list; empty entries are dropped. */
  list(name) {
    return this.text(name).split(",").map((item) => item.trim()).filter((item) => item.length > 0);
  }
  flag(name, fallback) {
    const value = this.text(name).toLowerCase();
    if (!value) return fallback;
    if (["true", "1", "yes", "on"].includes(value)) return true;
    if (["false", "0", "no", "off"].includes(value)) return false;
    this.problem(name, "must be true or false");
    return fallback;
  }
  integer(name, fallback, min, max) {
    const value = this.text(name);
    if (!value) return fallback;
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
      this.problem(name, `must be a whole number from ${min} to ${max}`);
      return fallback;
    }
    return parsed;
  }
  oneOf(name, choices, fallback) {
    const value = this.text(name);
    if (!value) return fallback;
    if (choices.includes(value)) return value;
    this.problem(name, `must be one of: ${choices.join(", ")}`);
    return fallback;
  }
  problem(variable, message) {
    this.problems.push({ variable, message });
  }
};
function memoizedRead(variables, read) {
  let lastKey;
  let lastValue;
  const memo = (env) => {
    let key = "";
    for (const name of variables) {
      const value = env[name];
      key += `${typeof value === "string" ? value : ""}\0`;
    }
    if (key !== lastKey) {
      lastValue = read(env);
      lastKey = key;
    }
    return lastValue;
  };
  return Object.assign(memo, { variables });
}

// src/lib/phone.ts
var E164 = /^\+[1-9]\d{6,14}$/;
function isE164(value) {
  return E164.test(value);
}

// src/lib/sanitize.ts
var UNSAFE = /[\u0000-\u001f\u007f-\u009f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
function clean(value, maxLength) {
  if (typeof value !== "string" && typeof value !== "number") return "";
  const text = String(value).replace(UNSAFE, "").trim();
  if (text.length <= maxLength) return text;
  return Array.from(text).slice(0, maxLength).join("");
}

// src/lib/config.ts
var LIMITS = {
  roomName: 128,
  identity: 128,
  name: 128,
  attribute: 256,
  metadata: 4096,
  speech: 1e3
};
var DEFAULT_FALLBACK_MESSAGE = "Sorry, we can't connect your call right now. Please try again later.";
var LOOPBACK_HOSTS = /* @__PURE__ */ new Set(["localhost", "127.0.0.1", "[::1]"]);
var ROOM_PREFIX = /^[A-Za-z0-9_.\-]{0,40}$/;
function finish(reader, value) {
  return reader.problems.length ? { ok: false, problems: reader.problems } : { ok: true, value };
}
function parseLiveKitUrl(reader, name) {
  const raw = reader.required(name);
  if (!raw) return "";
  let url;
  try {
    url = new URL(raw);
  } catch {
    reader.problem(name, "must be a URL such as wss://your-project.livekit.cloud");
    return "";
  }
  const secure = url.protocol === "wss:" || url.protocol === "https:";
  const plain = url.protocol === "ws:" || url.protocol === "http:";
  if (!secure && !(plain && LOOPBACK_HOSTS.has(url.hostname))) {
    reader.problem(name, "must start with wss:// or https://");
    return "";
  }
  if (url.username || url.password || url.search || url.hash || url.pathname && url.pathname !== "/") {
    reader.problem(name, "must be just the origin, with no path, query or credentials");
    return "";
  }
  return `${secure ? "https" : "http"}://${url.host}`;
}
var readLiveKitSettings = memoizedRead(
  ["LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET", "LIVEKIT_TIMEOUT_MS"],
  (env) => {
    const reader = new EnvReader(env);
    const url = parseLiveKitUrl(reader, "LIVEKIT_URL");
    const apiKey = reader.required("LIVEKIT_API_KEY");
    const apiSecret = reader.required("LIVEKIT_API_SECRET");
    const timeoutMs = reader.integer("LIVEKIT_TIMEOUT_MS", 3e3, 200, 4500);
    return finish(reader, { url, apiKey, apiSecret, timeoutMs });
  }
);
var readSignatureSettings = memoizedRead(["TWILIO_SIGNATURE_VALIDATION", "AUTH_TOKEN"], (env) => {
  const reader = new EnvReader(env);
  const required = reader.flag("TWILIO_SIGNATURE_VALIDATION", true);
  const authToken = required ? reader.required("AUTH_TOKEN") : reader.text("AUTH_TOKEN");
  return finish(reader, { required, authToken });
});
function readGreeting(reader) {
  return {
    text: clean(reader.text("GREETING"), LIMITS.speech),
    voice: clean(reader.text("GREETING_VOICE"), 64),
    language: clean(reader.text("GREETING_LANGUAGE"), 16)
  };
}
var readFallbackSettings = memoizedRead(
  ["FALLBACK_MESSAGE", "FALLBACK_NUMBER", "GREETING", "GREETING_VOICE", "GREETING_LANGUAGE"],
  (env) => {
    const reader = new EnvReader(env);
    const message = clean(reader.text("FALLBACK_MESSAGE"), LIMITS.speech) || DEFAULT_FALLBACK_MESSAGE;
    const number = reader.text("FALLBACK_NUMBER");
    const greeting = readGreeting(reader);
    return {
      message,
      number: isE164(number) ? number : "",
      voice: greeting.voice,
      language: greeting.language
    };
  }
);
function parseActionUrl(reader, name) {
  const value = reader.text(name);
  if (!value) return "";
  if (value.startsWith("/") && !value.startsWith("//")) return value;
  try {
    const url = new URL(value);
    if (url.protocol === "https:" || url.protocol === "http:") return url.toString();
  } catch {
  }
  reader.problem(name, "must be an https:// URL or a path starting with /");
  return "";
}
var readInboundSettings = memoizedRead(
  ["ROOM_PREFIX", "AGENT_NAMES", "AGENT_METADATA", "PARTICIPANT_IDENTITY", "PARTICIPANT_NAME", "GREETING", "GREETING_VOICE", "GREETING_LANGUAGE", "CONNECT_ACTION_URL"],
  (env) => {
    const reader = new EnvReader(env);
    const roomPrefix = reader.text("ROOM_PREFIX") || "call-";
    if (!ROOM_PREFIX.test(roomPrefix)) {
      reader.problem("ROOM_PREFIX", 'may hold only letters, digits, ".", "_" and "-" (at most 40)');
    }
    const agentNames = reader.list("AGENT_NAMES").map((n) => clean(n, 128)).filter(Boolean);
    return finish(reader, {
      roomPrefix,
      agentNames,
      agentMetadata: clean(reader.text("AGENT_METADATA"), LIMITS.metadata),
      identityPolicy: reader.oneOf("PARTICIPANT_IDENTITY", ["caller", "call"], "caller"),
      namePolicy: reader.oneOf("PARTICIPANT_NAME", ["number", "caller-name", "none"], "number"),
      greeting: readGreeting(reader),
      connectActionUrl: parseActionUrl(reader, "CONNECT_ACTION_URL")
    });
  }
);

// src/lib/routes.ts
var DEFAULT_ROUTE = { name: "default", numbers: [], prefixes: [] };
var RouteError = class extends Error {
  constructor(route, field, message) {
    super(`route ${route}: ${field} ${message}`);
    this.route = route;
    this.field = field;
    this.name = "RouteError";
  }
  route;
  field;
};
var ROUTE_KEYS = /* @__PURE__ */ new Set([
  "name",
  "numbers",
  "prefixes",
  "agentNames",
  "agentMetadata",
  "roomPrefix",
  "participantIdentity",
  "participantName",
  "attributes",
  "greeting",
  "fallback",
  "connectActionUrl",
  "outbound"
]);
var NAME = /^[A-Za-z0-9_.\-]{1,64}$/;
var PREFIX = /^\+[1-9]\d{0,14}$/;
var ROOM_PREFIX2 = /^[A-Za-z0-9_.\-]{0,40}$/;
var COUNTRY = /^[A-Z]{2}$/;
function isObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
var RouteReader = class {
  constructor(raw, label) {
    this.raw = raw;
    this.label = label;
  }
  raw;
  label;
  fail(field, message) {
    throw new RouteError(this.label, field, message);
  }
  text(field, max, value = this.raw[field], path2 = field) {
    if (value === void 0) return void 0;
    if (typeof value !== "string") this.fail(path2, "must be a string");
    if (clean(value, max) !== value.trim()) this.fail(path2, `must be at most ${max} printable characters`);
    return value.trim();
  }
  list(field, check, what) {
    const value = this.raw[field];
    if (value === void 0) return void 0;
    if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) this.fail(field, "must be a list of strings");
    for (const item of value) if (!check(item)) this.fail(field, `has "${clean(item, 32)}", which is not ${what}`);
    return value;
  }
  oneOf(field, choices) {
    const value = this.raw[field];
    if (value === void 0) return void 0;
    if (typeof value !== "string" || !choices.includes(value)) this.fail(field, `must be one of: ${choices.join(", ")}`);
    return value;
  }
  object(field, keys) {
    const value = this.raw[field];
    if (value === void 0) return void 0;
    if (!isObject(value)) this.fail(field, "must be an object");
    for (const key of Object.keys(value)) if (!keys.includes(key)) this.fail(`${field}.${key}`, `is not a known setting (known: ${keys.join(", ")})`);
    return value;
  }
};
function actionUrl(reader, value) {
  if (value === void 0) return void 0;
  if (value.startsWith("/") && !value.startsWith("//")) return value;
  try {
    const url = new URL(value);
    if (url.protocol === "https:" || url.protocol === "http:") return url.toString();
  } catch {
  }
  return reader.fail("connectActionUrl", "must be an https:// URL or a path starting with /");
}
function readRoute(raw, index) {
  const label = isObject(raw) && typeof raw.name === "string" && raw.name ? `"${clean(raw.name, 64)}"` : `#${index + 1}`;
  if (!isObject(raw)) throw new RouteError(label, "(route)", "must be an object");
  const r = new RouteReader(raw, label);
  for (const key of Object.keys(raw)) if (!ROUTE_KEYS.has(key)) r.fail(key, `is not a known setting (known: ${[...ROUTE_KEYS].join(", ")})`);
  const name = r.text("name", 64) ?? "";
  if (!NAME.test(name)) r.fail("name", 'is required: letters, digits, ".", "_" and "-" (at most 64)');
  if (name === DEFAULT_ROUTE.name) r.fail("name", `"default" is the environment's route; name this one differently`);
  const numbers = r.list("numbers", isE164, "an E.164 number") ?? [];
  const prefixes = r.list("prefixes", (p) => PREFIX.test(p), "an E.164 prefix such as +1415") ?? [];
  if (numbers.length + prefixes.length === 0) r.fail("numbers", "or prefixes must name at least one number the route answers");
  const route = { name, numbers, prefixes };
  const agentNames = r.list("agentNames", (n) => /^[A-Za-z0-9_.:@+\-]{1,128}$/.test(n), "an agent name");
  if (agentNames) route.agentNames = agentNames;
  const agentMetadata = r.text("agentMetadata", LIMITS.metadata);
  if (agentMetadata !== void 0) route.agentMetadata = agentMetadata;
  const roomPrefix = r.text("roomPrefix", 40);
  if (roomPrefix !== void 0) {
    if (!ROOM_PREFIX2.test(roomPrefix)) r.fail("roomPrefix", 'may hold only letters, digits, ".", "_" and "-" (at most 40)');
    route.roomPrefix = roomPrefix;
  }
  const identity = r.oneOf("participantIdentity", ["caller", "call"]);
  if (identity) route.participantIdentity = identity;
  const namePolicy = r.oneOf("participantName", ["number", "caller-name", "none"]);
  if (namePolicy) route.participantName = namePolicy;
  const attrRaw = raw.attributes;
  if (attrRaw !== void 0) {
    if (!isObject(attrRaw)) return r.fail("attributes", "must be an object of strings");
    const out = {};
    for (const [key, value] of Object.entries(attrRaw)) {
      if (key.startsWith("twilio.") || key.startsWith("sip.")) r.fail(`attributes.${key}`, "is reserved for the call's own attributes");
      if (!key || clean(key, 64) !== key) r.fail("attributes", "keys must be 1 to 64 printable characters");
      out[key] = r.text(`attributes.${key}`, LIMITS.attribute, value, `attributes.${key}`) ?? "";
    }
    route.attributes = out;
  }
  const greeting = r.object("greeting", ["text", "voice", "language"]);
  if (greeting) {
    route.greeting = {};
    const text = r.text("greeting.text", LIMITS.speech, greeting.text);
    const voice = r.text("greeting.voice", 64, greeting.voice);
    const language = r.text("greeting.language", 16, greeting.language);
    if (text !== void 0) route.greeting.text = text;
    if (voice !== void 0) route.greeting.voice = voice;
    if (language !== void 0) route.greeting.language = language;
  }
  const fallback = r.object("fallback", ["message", "number"]);
  if (fallback) {
    route.fallback = {};
    const message = r.text("fallback.message", LIMITS.speech, fallback.message);
    const number = r.text("fallback.number", 16, fallback.number);
    if (number !== void 0 && !isE164(number)) r.fail("fallback.number", "must be an E.164 number");
    if (message !== void 0) route.fallback.message = message;
    if (number !== void 0) route.fallback.number = number;
  }
  const action = actionUrl(r, r.text("connectActionUrl", 2048));
  if (action !== void 0) route.connectActionUrl = action;
  const outbound = r.object("outbound", ["allowedDestinations"]);
  if (outbound) {
    const destinations = outbound.allowedDestinations;
    if (!Array.isArray(destinations) || !destinations.every((d) => typeof d === "string" && (COUNTRY.test(d) || PREFIX.test(d)))) {
      r.fail("outbound.allowedDestinations", "must be a list of ISO country codes (US) and E.164 prefixes (+1415)");
    }
    route.outbound = { allowedDestinations: destinations };
  }
  return route;
}
var RouteTable = class {
  constructor(routes) {
    this.routes = routes;
    const names = /* @__PURE__ */ new Set();
    for (const route of routes) {
      const label = `"${route.name}"`;
      if (names.has(route.name)) throw new RouteError(label, "name", "is used by two routes");
      names.add(route.name);
      for (const number of route.numbers) {
        const other = this.exact.get(number);
        if (other) throw new RouteError(label, "numbers", `has ${number}, which route "${other.name}" has too`);
        this.exact.set(number, route);
      }
      for (const prefix of route.prefixes) {
        const other = this.byPrefix.get(prefix);
        if (other) throw new RouteError(label, "prefixes", `has ${prefix}, which route "${other.name}" has too`);
        this.byPrefix.set(prefix, route);
        this.longestPrefix = Math.max(this.longestPrefix, prefix.length);
      }
    }
  }
  routes;
  exact = /* @__PURE__ */ new Map();
  byPrefix = /* @__PURE__ */ new Map();
  longestPrefix = 0;
  /** Exact number first, then the longest matching prefix, then the default route. */
  match(number) {
    const exact = this.exact.get(number);
    if (exact) return exact;
    for (let length = Math.min(number.length, this.longestPrefix); length >= 2; length -= 1) {
      const route = this.byPrefix.get(number.slice(0, length));
      if (route) return route;
    }
    return DEFAULT_ROUTE;
  }
};
var EMPTY_ROUTES = new RouteTable([]);
function parseRoutes(text) {
  let json;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new RouteError("file", "(JSON)", `is not valid JSON: ${error instanceof Error ? error.message : "parse error"}`);
  }
  if (!isObject(json)) throw new RouteError("file", "(top level)", 'must be an object with a "routes" list');
  for (const key of Object.keys(json)) if (key !== "routes" && key !== "$comment") throw new RouteError("file", key, "is not a known key (known: routes)");
  if (!Array.isArray(json.routes)) throw new RouteError("file", "routes", "must be a list");
  return new RouteTable(json.routes.map(readRoute));
}

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
  /** Close the connection, unanswered, on the next request that reuses one: a keep-alive race. */
  dropNextReusedRequest = false;
  served = /* @__PURE__ */ new WeakMap();
  /** Milliseconds from each request's arrival to its answer (the stand-in's own cost). */
  serviceTimes = [];
  server;
  sockets = /* @__PURE__ */ new Set();
  verifier = new import_livekit_server_sdk.TokenVerifier(API_KEY, API_SECRET);
  constructor() {
    this.server = import_node_http.default.createServer((req, res) => {
      const count = (this.served.get(req.socket) ?? 0) + 1;
      this.served.set(req.socket, count);
      if (this.dropNextReusedRequest && count > 1) {
        this.dropNextReusedRequest = false;
        req.socket.destroy();
        return;
      }
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
      case "RoomService.GetParticipant": {
        const request = import_protocol.RoomParticipantIdentity.fromJson(json, { ignoreUnknownFields: false });
        roomAdmin(request.room);
        this.requests.push({ method, token, claims, body: request });
        if (behaviour.kind !== "ok" && behaviour.kind !== "delay") return behaviour.kind === "hang" ? null : {};
        const participant = this.rooms.get(request.room)?.get(request.identity);
        if (!participant) throw fail(404, "not_found", "participant not found");
        return new import_protocol.ParticipantInfo({ identity: participant.identity, attributes: participant.attributes, metadata: participant.metadata }).toJson();
      }
      case "RoomService.ListRooms": {
        if (!claims.video?.roomList) throw fail(403, "permission_denied", "roomList grant required");
        const request = import_protocol.ListRoomsRequest.fromJson(json, { ignoreUnknownFields: false });
        this.requests.push({ method, token, claims, body: request });
        if (behaviour.kind !== "ok" && behaviour.kind !== "delay") return behaviour.kind === "hang" ? null : {};
        return new import_protocol.ListRoomsResponse({ rooms: [...this.rooms.keys()].map((name) => new import_protocol.Room({ name })) }).toJson();
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
    const settled = overhead.slice(Math.floor(overhead.length / 2));
    warmRows.push([
      impl,
      ms(median(r.latencies)),
      ms(median(overhead)),
      ms(quantile(overhead, 0.99)),
      ms(quantile(settled, 0.99)),
      ms(median(service)),
      String(stand.connections - before)
    ]);
  }
  say(table(["", "latency median", "overhead median", "overhead p99", "overhead p99, second half", "stand-in median", "connections opened"], warmRows));
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
  say();
  say(routeMatching());
  await stand.stop();
}
function routeMatching() {
  const routes = Array.from(
    { length: 1e3 },
    (_, i) => i % 2 === 0 ? { name: `exact-${i}`, numbers: [`+1415${String(5e6 + i).padStart(7, "0")}`] } : { name: `prefix-${i}`, prefixes: [`+${44 + i % 7}${String(i).padStart(3 + i % 4, "0")}`] }
  );
  const text = JSON.stringify({ routes });
  const parseStart = performance.now();
  const routeTable = parseRoutes(text);
  const parseMs = performance.now() - parseStart;
  const numbers = Array.from(
    { length: 1e4 },
    (_, i) => i % 3 === 0 ? `+1415${String(5e6 + i % 1e3).padStart(7, "0")}` : i % 3 === 1 ? `+${44 + i % 7}${String(i % 1e3).padStart(6, "0")}1234` : `+3361234${String(i).padStart(4, "0")}`
  );
  const perMatch = [];
  let sink = 0;
  for (let round = 0; round < 30; round += 1) {
    const start = performance.now();
    for (const number of numbers) sink += routeTable.match(number).name.length;
    perMatch.push((performance.now() - start) * 1e3 / numbers.length);
  }
  const us = (v) => `${v.toFixed(3)} \xB5s`;
  return [
    "## Route matching (1,000 routes: 500 exact numbers, 500 prefixes)",
    "",
    table(["", "value"], [
      ["load and validate the file (once per cold start)", ms(parseMs)],
      ["one match, median of 30 rounds of 10,000", us(median(perMatch))],
      ["one match, slowest round", us(Math.max(...perMatch))]
    ])
  ].join("\n") + (sink > 0 ? "" : " ");
}
main().catch((error) => {
  console.error(error);
  process.exit(1);
});
