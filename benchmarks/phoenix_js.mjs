// phoenix.js (the official client) applying a recorded voki-sim stream, for benchmarks/core_speed.
//
// Usage: node benchmarks/phoenix_js.mjs NODE_MODULES_DIR RECORDING.json REPEAT
// Prints one JSON line: {"frames": N, "seconds": S, "presence_keys": K}.
//
// What runs per frame is exactly what a browser runs for a websocket message: Socket.onConnMessage
// -> serializer decode (JSON.parse of the V2 array) -> for every channel isMember (topic and
// join_ref filter) -> Channel.trigger -> the bound callbacks. The presence channels carry a
// Presence instance, so presence_diff goes through Presence.syncDiff (clone of the state and the
// diff, joins then leaves); queue events reach a no-op callback. The socket has a stand-in
// transport (readyState OPEN, send() answers nothing) so no I/O is timed; joins are answered
// before the clock starts, and each presence channel gets its presence_state with its own join_ref.
import { readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [modules, recordingPath, repeatText] = process.argv.slice(2);
const phoenixUrl = pathToFileURL(path.join(modules, "phoenix", "priv", "static", "phoenix.mjs"));
const { Socket, Presence } = await import(phoenixUrl.href);
const recording = JSON.parse(readFileSync(recordingPath, "utf8"));
const repeat = Number(repeatText || "1");

const sent = [];
class StandInTransport {
  constructor(url) { this.url = url; this.readyState = 1; }
  send(data) { sent.push(data); }
  close() { this.readyState = 3; }
}

const socket = new Socket("ws://bench.invalid/socket", {
  transport: StandInTransport,
  heartbeatIntervalMs: 3_600_000,
});
socket.connect();
socket.connection.transport.onopen();

const deliver = (text) => socket.onConnMessage({ data: text });
const channels = new Map();
const presences = [];
for (const topic of recording.topics) {
  const channel = socket.channel(topic, {});
  if (topic.startsWith("presence:")) {
    presences.push(new Presence(channel));
  } else {
    for (const event of ["customer_joined", "customer_left", "call_assigned"]) channel.on(event, () => {});
  }
  channel.join();
  channels.set(topic, channel);
}
for (const text of sent.splice(0)) {
  const [joinRef, ref, topic, event] = JSON.parse(text);
  if (event === "phx_join") {
    deliver(JSON.stringify([joinRef, ref, topic, "phx_reply", { status: "ok", response: {} }]));
  }
}
for (const [topic, state] of Object.entries(recording.presence_states)) {
  deliver(JSON.stringify([channels.get(topic).joinRef(), null, topic, "presence_state", state]));
}

const frames = recording.frames;
const started = process.hrtime.bigint();
for (let r = 0; r < repeat; r++) {
  for (let i = 0; i < frames.length; i++) deliver(frames[i]);
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const presenceKeys = presences.reduce((n, p) => n + p.list().length, 0);
process.stdout.write(JSON.stringify({ frames: frames.length * repeat, seconds, presence_keys: presenceKeys }) + "\n");
process.exit(0);
