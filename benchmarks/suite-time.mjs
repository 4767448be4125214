#!/usr/bin/env node
/**
 * Wall time of `npm test` at several commits, measured the same way, side by side: each commit is cloned into a
 * temp folder and installed once (npm ci), then the runs alternate between the commits (so a slower minute of the
 * machine does not fall on one of them), each from a clean dist/ (the build is part of the command, as in CI).
 *
 *   node benchmarks/suite-time.mjs --revs 7d02475,HEAD [--runs 2] [--same-files-as 7d02475] [--label NAME]
 *
 * --runs 0 only clones and installs (to do before the machine is quiet).
 *
 * --same-files-as REV adds, for every other commit, a run of its build and of only the test files that REV has
 * (the behaviours REV covered, as they are tested now), with that commit's own runner flags.
 * Writes benchmarks/results/suite-time-<label>.{json,md}. Run it with nothing else on the machine.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
};
const revs = arg('revs', 'HEAD').split(',');
const runs = Number(arg('runs', '2'));
const sameAs = arg('same-files-as', null);
const label = arg('label', new Date().toISOString().slice(0, 10));
const git = (...a) => execFileSync('git', a, { cwd: root, encoding: 'utf8' }).trim();

/** A clean clone of `rev`, installed; ../shared beside it as in CI. */
function checkout(rev) {
  const sha = git('rev-parse', '--short', rev);
  const base = join(tmpdir(), `sr-suite-${sha}`);
  const dir = join(base, 'main');
  if (!existsSync(join(dir, 'node_modules'))) {
    rmSync(base, { recursive: true, force: true });
    mkdirSync(base, { recursive: true });
    execFileSync('git', ['clone', '-q', root, dir]);
    execFileSync('git', ['checkout', '-q', sha], { cwd: dir });
    const shared = resolve(root, '..', 'shared');
    if (existsSync(shared)) execFileSync('ln', ['-sfn', shared, join(base, 'shared')]);
    execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'ignore' });
  }
  const script = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).scripts.test;
  const files = git('ls-tree', '--name-only', `${sha}:test`)
    .split('\n')
    .filter((f) => f.endsWith('.test.ts'));
  return { rev, sha, dir, script, files };
}

/** One timed run: the whole `npm test`, or the build and the given test files with the commit's runner flags. */
function timed(c, only) {
  rmSync(join(c.dir, 'dist'), { recursive: true, force: true });
  const cmd = only
    ? `npm run build && node --test ${(/--test-concurrency=\d+/.exec(c.script) ?? [''])[0]} ${only.map((f) => `dist/test/${f.replace(/\.ts$/, '.js')}`).join(' ')}`
    : 'npm test';
  const t0 = performance.now();
  const r = spawnSync('bash', ['-c', cmd], { cwd: c.dir, encoding: 'utf8', maxBuffer: 1 << 28 });
  const seconds = (performance.now() - t0) / 1000;
  const count = (k) => Number(new RegExp(`^# ${k} (\\d+)`, 'm').exec(r.stdout)?.[1] ?? NaN);
  return { seconds, status: r.status, tests: count('tests'), pass: count('pass'), fail: count('fail'), skipped: count('skipped') };
}

const commits = revs.map(checkout);
const ref = sameAs ? checkout(sameAs) : null;
if (runs === 0) {
  console.error(`installed: ${commits.map((c) => c.dir).join(', ')}`); // --runs 0: prepare the clones only
  process.exit(0);
}
const cases = commits.map((c) => ({ c, name: `${c.sha} npm test`, only: null }));
if (ref) {
  for (const c of commits) {
    if (c.sha === ref.sha) continue;
    const only = ref.files.filter((f) => c.files.includes(f));
    cases.push({ c, name: `${c.sha} build + the ${only.length} test files of ${ref.sha}`, only });
  }
}
const results = cases.map((k) => ({ name: k.name, rev: k.c.rev, sha: k.c.sha, script: k.c.script, files: k.only, runs: [] }));
for (let i = 0; i < runs; i++) {
  for (const [j, k] of cases.entries()) {
    const r = timed(k.c, k.only);
    results[j].runs.push(r);
    console.error(`${k.name}: run ${i + 1}: ${r.seconds.toFixed(1)} s, ${r.tests} tests, ${r.fail} failed, ${r.skipped} skipped`);
  }
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
for (const r of results) r.medianSeconds = median(r.runs.map((x) => x.seconds));
const machine = `${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}`;
const out = join(root, 'benchmarks', 'results');
mkdirSync(out, { recursive: true });
const env = { SR_REQUIRE_WEBGPU: process.env.SR_REQUIRE_WEBGPU ?? null, SR_REQUIRE_REDIS: process.env.SR_REQUIRE_REDIS ?? null };
writeFileSync(join(out, `suite-time-${label}.json`), JSON.stringify({ machine, runs, env, results }, null, 2) + '\n');
const md = [
  `# Test-suite wall time (${label})`,
  '',
  `Command: \`node benchmarks/suite-time.mjs ${process.argv.slice(2).join(' ')}\`. Machine: ${machine}. Each commit in a clean clone,`,
  `installed once; ${runs} runs each, alternating, each from a clean dist/ (the build included). Wall time from start to exit.`,
  '',
  '| what | tests | failed | skipped | runs (s) | median (s) |',
  '|---|---:|---:|---:|---|---:|',
  ...results.map(
    (r) =>
      `| ${r.name} | ${r.runs[0].tests} | ${Math.max(...r.runs.map((x) => x.fail))} | ${r.runs[0].skipped} | ${r.runs.map((x) => x.seconds.toFixed(1)).join(', ')} | ${r.medianSeconds.toFixed(1)} |`,
  ),
  '',
];
writeFileSync(join(out, `suite-time-${label}.md`), md.join('\n'));
console.log(md.join('\n'));
