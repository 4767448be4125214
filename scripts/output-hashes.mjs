#!/usr/bin/env node
/**
 * Output hashes of a fixed set of runs with the fixture model and fixed seeds: a batch (`sr upscale` of a folder),
 * a vary run and a sweep (with its report). Prints one JSON object { "<run>/<file>": sha256 }; two builds whose
 * objects are equal wrote byte-identical outputs. Files that carry wall times or dates are left out (their names
 * are listed under "volatile"). Used to show that a refactor changes no output (issue 24):
 *
 *   node scripts/output-hashes.mjs > before.json        # at the old commit, after npm run build
 *   node scripts/output-hashes.mjs --compare before.json # at the new one: exits 1 on any difference
 *
 * With --queue the same batch, vary run and sweep also run on a queue: a throwaway redis-server (Debian's package)
 * on a free loopback port and one `sr worker`, both started and stopped here; their files are keyed queued-<run>/.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const cli = join(root, 'dist', 'src', 'cli', 'index.js');
const dir = mkdtempSync(join(tmpdir(), 'sr-hashes-'));
const FIXED = ['--model', 'fixture', '--steps', '2', '--seed', '1'];
const sr = (argv) =>
  execFileSync(process.execPath, [cli, ...argv], {
    cwd: dir,
    env: { ...process.env, SR_CACHE_DIR: join(dir, 'cache') },
    stdio: ['ignore', 'ignore', 'pipe'],
  });

// Wall times and dates are not part of what a refactor must keep: JSON and CSV files are hashed without their
// `seconds` and `at` fields and with this run's temp folder as <dir>; files drawn from wall times are left out.
const TIMED = new Set(['seconds', 'at']);
const VOLATILE = /^(queued-)?sweep\/(report\.(md|html)|plots\/tradeoff-x\d+\.(svg|png))$/;
const untimed = (v) =>
  Array.isArray(v)
    ? v.map(untimed)
    : v && typeof v === 'object'
      ? Object.fromEntries(
          Object.entries(v)
            .filter(([k]) => !TIMED.has(k))
            .map(([k, x]) => [k, untimed(x)]),
        )
      : v;
function normalised(file, bytes) {
  if (!/\.(json|jsonl|csv)$/.test(file)) return bytes;
  const text = bytes.toString('utf8').split(dir).join('<dir>').split(root).join('<root>');
  if (file.endsWith('.json')) return JSON.stringify(untimed(JSON.parse(text)));
  if (file.endsWith('.jsonl'))
    return text
      .trim()
      .split('\n')
      .map((l) => JSON.stringify(untimed(JSON.parse(l))))
      .join('\n');
  const rows = text
    .trim()
    .split('\n')
    .map((l) => l.split(','));
  const keep = rows[0].map((h, i) => (TIMED.has(h) ? -1 : i)).filter((i) => i >= 0);
  return rows.map((r) => keep.map((i) => r[i]).join(',')).join('\n');
}

try {
  const inputs = join(dir, 'in');
  mkdirSync(join(inputs, 'sub'), { recursive: true });
  copyFileSync(join(root, 'fixtures', 'flowers-32.png'), join(inputs, 'a.png'));
  copyFileSync(join(root, 'fixtures', 'flowers-64.png'), join(inputs, 'sub', 'b.png'));
  const runAll = (prefix, extra) => {
    sr([
      'upscale',
      join(inputs, 'a.png'),
      join(inputs, 'sub', 'b.png'),
      '-o',
      join(dir, `${prefix}batch`),
      '--factor',
      '2',
      '-q',
      ...FIXED,
      ...extra,
    ]);
    sr(['vary', inputs, '-o', join(dir, `${prefix}vary`), '--t', '20,400', '--samples', '2', '-q', ...FIXED, ...extra]);
    const sweep = ['--factor', '2', '--t', '10,20', '--cascade', '1,2', '--save-images', 'all', '--out', join(dir, `${prefix}sweep`)];
    sr(['sweep', '--hr', join(inputs, 'sub'), ...sweep, '-q', ...FIXED, ...extra]);
  };
  runAll('', []);
  const runs = ['batch', 'vary', 'sweep'];
  if (args.includes('--queue')) {
    const port = await new Promise((res) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const p = server.address().port;
        server.close(() => res(p));
      });
    });
    const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    const url = `redis://127.0.0.1:${port}`;
    for (let i = 0; i < 100 && !spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout?.includes('PONG'); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const worker = spawn(process.execPath, [cli, 'worker', '--queue', url, '-q'], { cwd: dir, stdio: 'ignore' });
    try {
      runAll('queued-', ['--queue', url]);
      runs.push('queued-batch', 'queued-vary', 'queued-sweep');
    } finally {
      worker.kill('SIGTERM');
      await new Promise((r) => worker.once('exit', r));
      redis.kill('SIGTERM');
    }
  }
  const hashes = {};
  const volatile = [];
  for (const run of runs) {
    const base = join(dir, run);
    const files = readdirSync(base, { recursive: true })
      .map(String)
      .filter((f) => statSync(join(base, f)).isFile())
      .sort();
    for (const f of files) {
      const key = `${run}/${f.split('\\').join('/')}`;
      if (VOLATILE.test(key)) volatile.push(key);
      else
        hashes[key] = createHash('sha256')
          .update(normalised(f, readFileSync(join(base, f))))
          .digest('hex');
    }
  }
  const result = { hashes, volatile };
  const against = opt('--compare');
  if (against) {
    const want = JSON.parse(readFileSync(against, 'utf8'));
    const keys = [...new Set([...Object.keys(want.hashes), ...Object.keys(hashes)])].sort();
    const diff = keys.filter((k) => want.hashes[k] !== hashes[k]);
    for (const k of diff) console.log(`differs: ${k} (${want.hashes[k] ?? 'absent'} → ${hashes[k] ?? 'absent'})`);
    console.log(`${keys.length - diff.length} of ${keys.length} files identical`);
    process.exitCode = diff.length === 0 ? 0 : 1;
  } else console.log(JSON.stringify(result, null, 1));
} finally {
  if (!args.includes('--keep')) rmSync(dir, { recursive: true, force: true });
  else console.error(dir);
}
