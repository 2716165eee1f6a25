// Reads a .cpuprofile (Bun --cpu-prof) and prints where the time went: self and inclusive shares per function, optionally within a time window.
// Usage: bun scripts/bench/tools/cpuprofile-top.ts FILE [--from MS] [--to MS] [--top N] [--match TEXT] [--callers TEXT]
import { readFileSync } from "node:fs";

interface Frame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface Node {
  id: number;
  callFrame: Frame;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const text = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const match = text("--match");
const callersOf = text("--callers");
const file = args[0];
if (!file) {
  console.error("usage: cpuprofile-top.ts FILE [--from MS] [--to MS] [--top N] [--match TEXT]");
  process.exit(1);
}
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const from = flag("--from", 0) * 1000;
const to = flag("--to", Number.POSITIVE_INFINITY) * 1000;
const top = flag("--top", 25);

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const name = (n: Node) => {
  const f = n.callFrame;
  const where = f.url ? `${f.url.replace(/^.*\/(src|node_modules)\//, "$1/")}:${f.lineNumber + 1}` : "";
  return `${f.functionName || "(anonymous)"} ${where}`.trim();
};

const self = new Map<string, number>();
const callers = new Map<string, number>();
const inclusive = new Map<string, number>();
let total = 0;
let t = 0;
for (let i = 0; i < profile.samples.length; i++) {
  t += profile.timeDeltas[i] ?? 0;
  if (t < from || t > to) continue;
  const dt = profile.timeDeltas[i + 1] ?? 0;
  let node = byId.get(profile.samples[i]!);
  if (!node) continue;
  total += dt;
  const leaf = name(node);
  self.set(leaf, (self.get(leaf) ?? 0) + dt);
  const seen = new Set<string>();
  let callerSeen = false;
  for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
    const key = name(byId.get(id)!);
    if (callersOf && !callerSeen && key.includes(callersOf)) {
      // the caller chain: the next three frames up, joined
      const chain: string[] = [];
      for (let up = parent.get(id); up !== undefined && chain.length < 3; up = parent.get(up)) chain.push(name(byId.get(up)!));
      const k = chain.join(" ← ");
      callers.set(k, (callers.get(k) ?? 0) + dt);
      callerSeen = true;
    }
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + dt);
  }
}

const print = (title: string, map: Map<string, number>) => {
  console.log(`\n${title} (of ${(total / 1000).toFixed(1)} ms sampled)`);
  const rows = [...map].filter(([k]) => map === callers || !match || k.includes(match)).sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [key, us] of rows) console.log(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(1).padStart(8)} ms  ${key}`);
};
print("self time", self);
print("inclusive time", inclusive);
if (callersOf) print(`callers of ${callersOf}`, callers);
