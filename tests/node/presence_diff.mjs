// Differential oracle for voki_tui.phoenix.presence: applies phoenix.js's own Presence.syncState /
// syncDiff to the cases read from stdin and prints what happened, for the Python side to compare.
//
// stdin:  {"cases": [{"state": {...}, "steps": [{"kind": "state"|"diff", "data": {...}}, ...]}]}
// stdout: {"results": [{"steps": [{"state": {...}, "joins": [...], "leaves": [...], "list": [...]}]}]}
// Callback arguments are serialised at call time (JS mutates the objects afterwards).
import { Presence } from "phoenix";

const snapshot = (value) => (value === undefined ? null : JSON.parse(JSON.stringify(value)));

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const input = JSON.parse(Buffer.concat(chunks).toString("utf8"));

const results = input.cases.map(({ state, steps }) => {
  let current = state;
  return {
    steps: steps.map(({ kind, data }) => {
      const joins = [];
      const leaves = [];
      const onJoin = (key, cur, joined) => joins.push([key, snapshot(cur), snapshot(joined)]);
      const onLeave = (key, cur, left) => leaves.push([key, snapshot(cur), snapshot(left)]);
      current = kind === "state"
        ? Presence.syncState(current, data, onJoin, onLeave)
        : Presence.syncDiff(current, data, onJoin, onLeave);
      const list = Presence.list(current, (key, p) => ({ key, first: p.metas[0], count: p.metas.length }));
      return { state: snapshot(current), joins, leaves, list };
    }),
  };
});
process.stdout.write(JSON.stringify({ results }));
