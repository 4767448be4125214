#!/usr/bin/env node
/**
 * Wall time of `npm test` at several commits, measured the same way, side by side: each commit is cloned into a
 * temp folder and installed once (npm ci), then the runs alternate between the commits (so a slower minute of the
 * machine does not fall on one of them), each from a clean dist/ (the build is part of the command, as in CI).
 *
 *   node benchmarks/suite-time.mjs --revs 7d02475,HEAD [--runs 2] [--same-files-as 7d02475] [--coverage] [--label NAME]
 *
 * --runs 0 only clones and installs (to do before the machine is quiet). --coverage adds, per command, one untimed
 * run under c8 and the share of the commit's src/ it covers (lines, branches, functions): the same behaviours covered.
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
const coverage = process.argv.includes('--coverage');
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

/** The test runner over the given test files (all of dist/test without), with the commit's runner flags. */
const runner = (c, only) =>
  `node --test ${(/--test-concurrency=\d+/.exec(c.script) ?? [''])[0]} ${only ? only.map((f) => `dist/test/${f.replace(/\.ts$/, '.js')}`).join(' ') : 'dist/test/'}`;

/** One timed run: the whole `npm test`, or the build and the given test files with the commit's runner flags. */
function timed(c, only) {
  rmSync(join(c.dir, 'dist'), { recursive: true, force: true });
  const cmd = only ? `npm run build && ${runner(c, only)}` : 'npm test';
  const t0 = performance.now();
  const r = spawnSync('bash', ['-c', cmd], { cwd: c.dir, encoding: 'utf8', maxBuffer: 1 << 28 });
  const seconds = (performance.now() - t0) / 1000;
  const count = (k) => Number(new RegExp(`^# ${k} (\\d+)`, 'm').exec(r.stdout)?.[1] ?? NaN);
  return { seconds, status: r.status, tests: count('tests'), pass: count('pass'), fail: count('fail'), skipped: count('skipped') };
}

/**
 * What the same command covers of the commit's own src/ (c8 from this checkout over the built dist, mapped back to
 * the .ts sources through the source maps; every src file counts, loaded or not; child processes included), untimed.
 */
function covered(c, only) {
  const report = join(c.dir, '.suite-coverage');
  rmSync(report, { recursive: true, force: true });
  const c8 = join(root, 'node_modules', '.bin', 'c8');
  const flags = `--all --src dist/src --include 'dist/src/**' --reporter=json-summary --report-dir ${report} --temp-directory ${report}/tmp`;
  const r = spawnSync('bash', ['-c', `npm run build && ${c8} ${flags} ${runner(c, only)}`], {
    cwd: c.dir,
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  if (r.status !== 0) throw new Error(`coverage run of ${c.sha} failed (${r.status}): ${r.stderr.slice(-500)}`);
  const { total } = JSON.parse(readFileSync(join(report, 'coverage-summary.json'), 'utf8'));
  rmSync(report, { recursive: true, force: true });
  const part = (k) => ({ covered: total[k].covered, total: total[k].total, pct: total[k].pct });
  return { lines: part('lines'), branches: part('branches'), functions: part('functions') };
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
if (coverage) {
  for (const [j, k] of cases.entries()) {
    results[j].coverage = covered(k.c, k.only);
    const v = results[j].coverage;
    console.error(`${k.name}: coverage: lines ${v.lines.pct}%, branches ${v.branches.pct}%, functions ${v.functions.pct}%`);
  }
}
const pct = (v) => `${v.pct.toFixed(1)}% (${v.covered}/${v.total})`;
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
  `| what | tests | failed | skipped | runs (s) | median (s) |${coverage ? ' src lines covered | branches | functions |' : ''}`,
  `|---|---:|---:|---:|---|---:|${coverage ? '---:|---:|---:|' : ''}`,
  ...results.map(
    (r) =>
      `| ${r.name} | ${r.runs[0].tests} | ${Math.max(...r.runs.map((x) => x.fail))} | ${r.runs[0].skipped} | ${r.runs.map((x) => x.seconds.toFixed(1)).join(', ')} | ${r.medianSeconds.toFixed(1)} |` +
      (r.coverage ? ` ${pct(r.coverage.lines)} | ${pct(r.coverage.branches)} | ${pct(r.coverage.functions)} |` : ''),
  ),
  '',
  ...(coverage
    ? [
        "Coverage: one more, untimed, run of each command under c8 (this checkout's), over the commit's own src/ through its",
        'source maps; every src file counts, loaded or not, and child processes (CLI and worker processes) are included.',
        '',
      ]
    : []),
];
writeFileSync(join(out, `suite-time-${label}.md`), md.join('\n'));
console.log(md.join('\n'));
