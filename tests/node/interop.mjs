// Drives voki-sim with the official Phoenix JS client (npm `phoenix`) and prints one JSON
// document of what it saw; tests/sim/test_phoenix_js.py asserts on it.
//
// Usage: node interop.mjs http://127.0.0.1:PORT
// The scenario must be paused, so that presence can be compared with GET /__sim/state.
// Every wait has a timeout and the whole run a hard deadline: the script always exits itself.

import { Presence, Socket } from "phoenix";
import WebSocket from "ws";

const BASE = process.argv[2];
const TENANT = "demo";
const PASSWORD = "voki-demo-pass";
const STEP_MS = 5000;
const HARD_DEADLINE_MS = 45000;

const result = { errors: [], manager: {}, attendant: {}, events: {}, presence: {} };
const sockets = [];

function finish(code) {
  for (const socket of sockets) socket.disconnect();
  process.stdout.write(JSON.stringify(result) + "\n");
  process.exit(code);
}

setTimeout(() => {
  result.errors.push("hard deadline reached");
  finish(2);
}, HARD_DEADLINE_MS).unref();

async function http(method, path, { token, body } = {}) {
  const headers = { "content-type": "application/json" };
  if (token) {
    headers.authorization = `Bearer ${token}`;
    headers["x-tenant"] = TENANT;
  }
  const response = await fetch(`${BASE}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(STEP_MS),
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${method} ${path}: HTTP ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function login(email) {
  const body = await http("POST", "/api/auth/login", {
    body: { email, password: PASSWORD, tenant: TENANT },
  });
  return body.data ?? body;
}

function openSocket(token) {
  const socket = new Socket(BASE.replace(/^http/, "ws") + "/socket", {
    transport: WebSocket,
    params: { token },
    reconnectAfterMs: () => 60000,
    rejoinAfterMs: () => 60000,
  });
  sockets.push(socket);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("socket open timeout")), STEP_MS);
    socket.onOpen(() => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.connect();
  });
}

function join(channel) {
  return new Promise((resolve) => {
    channel
      .join(STEP_MS)
      .receive("ok", (response) => resolve({ status: "ok", response }))
      .receive("error", (response) => {
        channel.leave(); // stop phoenix.js from retrying a refused join forever
        resolve({ status: "error", response });
      })
      .receive("timeout", () => resolve({ status: "timeout" }));
  });
}

function until(condition, timeoutMs = STEP_MS, intervalMs = 50) {
  return new Promise((resolve) => {
    const started = Date.now();
    const poll = async () => {
      const value = await condition();
      if (value || Date.now() - started > timeoutMs) resolve(value);
      else setTimeout(poll, intervalMs);
    };
    poll();
  });
}

// key -> [status of the most recent meta (latest `since`, then last listed), number of metas]
function summarize(presence) {
  const summary = {};
  presence.list((key, { metas }) => {
    let latest = 0;
    metas.forEach((meta, i) => {
      if (meta.since >= metas[latest].since) latest = i;
    });
    summary[key] = [metas[latest].status, metas.length];
  });
  return summary;
}

function truthOf(state, departmentId) {
  const department = state.departments.find((d) => d.id === departmentId);
  const truth = {};
  for (const agent of department.agents) truth[String(agent.user_id)] = [agent.status, agent.devices];
  return truth;
}

function sameSummary(a, b) {
  const keys = Object.keys(a).sort();
  if (JSON.stringify(keys) !== JSON.stringify(Object.keys(b).sort())) return false;
  return keys.every((k) => a[k][0] === b[k][0] && a[k][1] === b[k][1]);
}

async function joinDepartments(socket, departmentIds, record) {
  const channels = {};
  for (const id of departmentIds) {
    const queue = socket.channel(`queue:${id}`, {});
    const presenceChannel = socket.channel(`presence:${id}`, {});
    const presence = new Presence(presenceChannel);
    let synced = false;
    let diffs = 0;
    presence.onSync(() => {
      synced = true;
    });
    presenceChannel.on("presence_diff", () => {
      diffs += 1;
    });
    const events = [];
    for (const name of ["customer_joined", "customer_left", "call_assigned"]) {
      queue.on(name, (payload) => events.push({ event: name, payload }));
    }
    record[`queue:${id}`] = await join(queue);
    record[`presence:${id}`] = await join(presenceChannel);
    channels[id] = { queue, presence, events, isSynced: () => synced, diffs: () => diffs };
  }
  return channels;
}

async function main() {
  const manager = await login("manager@demo.test");
  const attendant = await login("attendant@demo.test");
  const departments = (await http("GET", "/api/v1/departments?page_size=100", {
    token: manager.access_token,
  })).data;
  const ids = departments.map((d) => d.id);
  const mine = [];
  for (const id of ids) {
    const members = await http("GET", `/api/v1/departments/${id}/users?page_size=100`, {
      token: manager.access_token,
    });
    if (members.data.some((u) => u.id === attendant.user.id)) mine.push(id);
  }
  const foreign = ids.filter((id) => !mine.includes(id));
  result.departments = ids;
  result.attendant_departments = mine;

  const managerSocket = await openSocket(manager.access_token);
  const managerChannels = await joinDepartments(managerSocket, ids, result.manager);

  const attendantSocket = await openSocket(attendant.access_token);
  const attendantChannels = await joinDepartments(attendantSocket, mine, result.attendant);
  for (const topic of [`queue:${foreign[0]}`, `presence:${foreign[0]}`, "queue:999999"]) {
    result.attendant[topic] = await join(attendantSocket.channel(topic, {}));
  }

  // Queue events: one injected customer per department, seen by the manager (and the attendant
  // where it is a member).
  for (const id of ids) {
    const name = `Node Customer ${id}`;
    await http("POST", "/__sim/customers", {
      body: { department_id: id, customer_name: name, reason: "interop" },
    });
    const seen = (channels) =>
      channels[id].events.find((e) => e.event === "customer_joined" && e.payload.customer_name === name);
    result.events[`manager:${id}`] = (await until(() => seen(managerChannels))) ?? null;
    if (mine.includes(id)) {
      result.events[`attendant:${id}`] = (await until(() => seen(attendantChannels))) ?? null;
    }
  }

  // The injected customers are waiting now; the scenario may serve them once it runs again.
  result.state_after_injection = await http("GET", "/__sim/state");

  // Let the scenario run for a while so that Presence applies real diffs, then freeze it again.
  await http("POST", "/__sim/rate?events_per_second=50");
  await http("POST", "/__sim/resume");
  await until(() => Object.values(managerChannels).every((c) => c.diffs() > 0), STEP_MS);
  await http("POST", "/__sim/pause");

  // Presence: wait until every Presence object has synced and agrees with the ground truth
  // (or the step times out), then report both sides as they last were.
  const views = [
    ["manager", managerChannels],
    ["attendant", attendantChannels],
  ];
  let state = null;
  await until(async () => {
    state = await http("GET", "/__sim/state");
    return views.every(([, channels]) =>
      Object.entries(channels).every(
        ([id, c]) => c.isSynced() && sameSummary(summarize(c.presence), truthOf(state, id)),
      ),
    );
  }, 3 * STEP_MS, 200);
  result.state = state;
  for (const [who, channels] of views) {
    for (const [id, c] of Object.entries(channels)) {
      result.presence[`${who}:${id}`] = {
        synced: c.isSynced(),
        diffs: c.diffs(),
        list: summarize(c.presence),
      };
    }
  }
}

main().then(
  () => finish(0),
  (error) => {
    result.errors.push(String(error?.stack ?? error));
    finish(1);
  },
);
