#!/usr/bin/env node
/**
 * The layering check (run by `npm run lint`): src/ is a stack of layers (docs/architecture.md draws it), and a file
 * may import only from its own unit (a folder under src/, or a file at src/'s top) or from a unit of a lower layer.
 * Fails, listing each offence, on:
 *   - an import of a higher layer ("upward"), or of another unit of the same layer ("sideways": peers stay apart);
 *   - an import cycle between files (type-only imports count: a cycle of types is still two files that cannot be
 *     read apart);
 *   - a file under src/ that belongs to no layer (a new folder is placed in LAYERS when it is made);
 *   - a feature (batch, eval, vary, explore) that reaches the queue other than through the payload envelope
 *     (queue/jobs.ts): dispatching, connections and folder locks are the job runner's (jobs/runner.ts), so that
 *     every engine runs its units one way (reported as "past the runner").
 * Relative imports only (`import … from`, `export … from`, `import('…')`, `import '…'`); packages are not layered.
 *
 *   node scripts/check-layers.mjs           # the check
 *   node scripts/check-layers.mjs --graph   # the units and what each imports, lowest first
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Lowest first. Units in one entry are peers: none imports another. */
export const LAYERS = [
  ['errors.ts'],
  ['validate.ts'],
  ['run-context.ts', 'io-safety'],
  ['image'],
  ['diffusion', 'metrics'],
  ['model'],
  ['upscale.ts'],
  ['report', 'queue'],
  ['jobs'],
  ['batch', 'eval', 'vary', 'explore'],
  ['worker.ts'],
  ['index.ts'],
  ['cli'],
];

/** The feature folders, and what of queue/ they may import: the payload envelope only (the rest is the runner's). */
const FEATURES = new Set(['batch', 'eval', 'vary', 'explore']);
const FEATURE_QUEUE = new Set(['src/queue/jobs.ts']);

/**
 * Offences tolerated until fixed; none may be added. Empty since issue 24 fixed the 13 present when the check came
 * in (the queue's handler table, report writers in eval/, uncertainty in explore/, three cycles).
 */
const KNOWN = new Set([]);

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const posix = (p) => p.split(sep).join('/');

function sources(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^'";]*?\sfrom\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g;

/** The relative imports of each file, as paths relative to the repository (src/…/x.ts). */
export function importGraph() {
  const graph = new Map();
  for (const file of sources(src)) {
    const text = readFileSync(file, 'utf8');
    const targets = new Set();
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3];
      if (!spec.startsWith('.')) continue;
      targets.add(posix(relative(root, join(dirname(file), spec))).replace(/\.js$/, '.ts'));
    }
    graph.set(posix(relative(root, file)), [...targets].sort());
  }
  return graph;
}

/** The unit of a file: its folder under src/, or the file itself at src/'s top. */
const unitOf = (file) => file.split('/')[1];
const rank = new Map(LAYERS.flatMap((units, i) => units.map((u) => [u, i])));

/** Each offence as one line. */
export function offences(graph) {
  const found = [];
  for (const [file, targets] of graph) {
    const from = unitOf(file);
    if (!rank.has(from)) found.push(`unplaced: ${file} (add ${from} to LAYERS in scripts/check-layers.mjs)`);
    for (const target of targets) {
      const to = unitOf(target);
      if (!target.startsWith('src/')) found.push(`outside src: ${file} -> ${target}`);
      else if (from === to || !rank.has(from) || !rank.has(to)) continue;
      else if (rank.get(to) > rank.get(from)) found.push(`upward: ${file} -> ${target}`);
      else if (rank.get(to) === rank.get(from)) found.push(`sideways: ${file} -> ${target}`);
      else if (FEATURES.has(from) && to === 'queue' && !FEATURE_QUEUE.has(target)) found.push(`past the runner: ${file} -> ${target}`);
    }
  }
  for (const cycle of cycles(graph)) found.push(`cycle: ${[...cycle, cycle[0]].join(' -> ')}`);
  return found.sort();
}

/** The strongly connected components of more than one file (Tarjan), each from its first file by name. */
function cycles(graph) {
  let next = 0;
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const out = [];
  const visit = (v) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
    }
    if (low.get(v) === index.get(v)) {
      const component = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) out.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const graph = importGraph();
  if (process.argv.includes('--graph')) {
    for (const units of LAYERS) {
      for (const unit of units) {
        const uses = new Set();
        for (const [file, targets] of graph)
          if (unitOf(file) === unit) for (const t of targets) if (unitOf(t) !== unit) uses.add(unitOf(t));
        console.log(`${unit.padEnd(16)} ${[...uses].sort((a, b) => rank.get(a) - rank.get(b)).join(' ')}`);
      }
    }
  } else {
    const found = offences(graph);
    const fresh = found.filter((o) => !KNOWN.has(o));
    const gone = [...KNOWN].filter((o) => !found.includes(o));
    for (const o of fresh) console.error(o);
    for (const o of gone) console.error(`fixed, remove from KNOWN in scripts/check-layers.mjs: ${o}`);
    if (fresh.length + gone.length > 0) {
      console.error(`layers: ${fresh.length} new offence(s), ${gone.length} stale KNOWN entr(ies); see docs/architecture.md`);
      process.exitCode = 1;
    } else console.log(`layers: ${graph.size} files, no import cycle, no import of a higher layer or a peer`);
  }
}
