import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { root, sr as srIn, srProcess } from './cli-helpers.js';
import { createRng } from '../src/diffusion/rng.js';

const fixture = join(root, 'fixtures', 'flowers-32.png');
const sr = (...args: string[]) => srIn(args);

test('sr upscale writes an 8x image with the fixture model and reports its settings', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'sr-cli-')), 'out.png');
  // the binary itself, end to end; the other tests call the same CLI in-process
  const method = ['--factor', '8', '--t', '40', '--cascade', '2', '--steps', '3', '--seed', '5', '--model', 'fixture'];
  const r = srProcess(['upscale', fixture, '-o', out, ...method]);
  assert.equal(r.status, 0, r.stderr);
  const meta = await sharp(out).metadata();
  assert.equal(meta.width, 256);
  assert.equal(meta.height, 256);
  assert.match(r.stderr, /wrote .*out\.png \(256x256, x8, t=40,40, 3 steps, ancestral, consistency ddnm, seed 5\)/);
  // the same seed gives the same file content, in-process as from the binary
  const out2 = join(dirname(out), 'out2.png');
  const again = await sr('upscale', fixture, '-o', out2, ...method);
  assert.equal(again.status, 0, again.stderr);
  const [a, b] = await Promise.all([sharp(out).raw().toBuffer(), sharp(out2).raw().toBuffer()]);
  assert.ok(a.equals(b));
});

test('the time on the wrote line is the one the progress line counts, model load included (issue 26 #5)', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'sr-cli-')), 'timed.png');
  const r = await sr('upscale', fixture, '-o', out, '--model', 'fixture', '--t', '20', '--steps', '40', '--seed', '1');
  assert.equal(r.status, 0, r.stderr);
  const shown = [...r.stderr.matchAll(/ (\d+\.\d)s\n/g)].map((m) => Number(m[1]));
  const wrote = /\) in (\d+\.\d) s on cpu/.exec(r.stderr);
  assert.ok(shown.length > 0 && wrote, r.stderr);
  assert.ok(Number(wrote![1]) >= shown.at(-1)!, r.stderr);
  // and --steps 40 at t=20 ran, and says, 20 steps
  assert.match(r.stderr, /pass 1\/1 step 20\/20 /);
  assert.match(r.stderr, /t=20, 20 steps,/);
});

test('bad flags are one-line usage errors with exit code 2 and no output', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'sr-cli-')), 'out.png');
  const cases: Array<[string[], string]> = [
    [['--t', '0'], 'sr: Expected integer t in 1..999 but received 0'],
    [['--cascade', '0'], 'sr: Expected positive integer for cascade but received 0'],
    [['--steps', '0'], 'sr: Expected positive integer for steps but received 0'],
    [['--factor', '2.5'], 'sr: Expected positive integer for factor but received 2.5'],
    [['--factor', 'x'], 'sr: Expected a number for --factor but received "x"'],
    [['--device', 'tpu'], 'sr: Expected one of cpu, webgpu, auto for --device but received "tpu"'],
  ];
  for (const [flags, message] of cases) {
    const r = await sr('upscale', fixture, '-o', out, '--model', 'fixture', ...flags);
    assert.equal(r.status, 2, `${flags.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim(), message);
    assert.equal(existsSync(out), false);
  }
});

test('a missing input is an input error (3); a missing model is a model error (4)', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'sr-cli-')), 'out.png');
  const a = await sr('upscale', join(root, 'fixtures', 'nope.png'), '-o', out, '--model', 'fixture');
  assert.equal(a.status, 3);
  assert.match(a.stderr, /nope\.png/);
  const b = await sr('upscale', fixture, '-o', out, '--model', './no-such-model');
  assert.equal(b.status, 4);
  assert.match(b.stderr, /^sr: Cannot read model manifest .*no-such-model\/manifest\.json/);
  assert.equal(b.stderr.trim().split('\n').length, 1);
});

test('--device auto says which device it found', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'sr-cli-')), 'auto.png');
  const r = await sr('upscale', fixture, '-o', out, '--model', 'fixture', '--device', 'auto', '--t', '20', '--steps', '2', '--seed', '1');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /sr: --device auto: (using the WebGPU adapter|no WebGPU adapter found, using the CPU)/);
  assert.match(r.stderr, / on (cpu|webgpu) with model fixture/);
});

test("flags left out take the model's defaults and presets, not the CLI's", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sr-cli-'));
  const model = join(dir, 'model');
  cpSync(join(root, 'models', 'fixture'), model, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(model, 'manifest.json'), 'utf8'));
  manifest.defaults = { t: 30, steps: 3, cascade: 2, consistency: 'ibp', upsampler: 'lanczos' };
  manifest.presets = { sharp: { t: 60, cascade: 1, consistency: 'none', sampler: 'ddim' } };
  writeFileSync(join(model, 'manifest.json'), JSON.stringify(manifest));
  const a = await sr('upscale', fixture, '-o', join(dir, 'a.png'), '--model', model, '--seed', '1');
  assert.equal(a.status, 0, a.stderr);
  assert.match(a.stderr, /t=30,30, 3 steps, ancestral, consistency ibp, seed 1/);
  const b = await sr('upscale', fixture, '-o', join(dir, 'b.png'), '--model', model, '--seed', '1', '--preset', 'sharp');
  assert.match(b.stderr, /t=60, 3 steps, ddim, consistency none, seed 1/);
  const c = await sr(
    'upscale',
    fixture,
    '-o',
    join(dir, 'c.png'),
    '--model',
    model,
    '--seed',
    '1',
    '--preset',
    'sharp',
    '--consistency',
    'ddnm',
  );
  assert.match(c.stderr, /t=60, 3 steps, ddim, consistency ddnm, seed 1/);
});

test('sr info prints the manifest and what t means', async () => {
  const r = await sr('info', '--model', 'fixture');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /model\s+fixture/);
  assert.match(r.stdout, /t=\s+100\s+0\.342/);
  assert.match(r.stdout, /t=\s+400\s+2\.041/);
  const j = await sr('info', '--model', 'fixture', '--json');
  assert.equal(JSON.parse(j.stdout).name, 'fixture');
});

test('--help and --version go to stdout with exit 0; an unknown command is a usage error', async () => {
  const help = await sr('--help');
  assert.equal(help.status, 0, help.stderr);
  for (const c of ['upscale', 'eval', 'sweep', 'vary', 'worker', 'queue', 'devices', 'info'])
    assert.match(help.stdout, new RegExp(`^  ${c}\\b`, 'm'));
  const up = await sr('upscale', '--help');
  assert.equal(up.status, 0);
  assert.match(up.stdout, /--factor <n> +integer enlargement factor \(default: "4"\)/);
  assert.match(up.stdout, /--preset <name>/);
  const v = await sr('--version');
  assert.deepEqual([v.status, v.stdout.trim()], [0, '0.1.0']);
  const bad = await sr('frobnicate');
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr, "sr: unknown command 'frobnicate'; see sr --help\n");
  assert.equal(bad.stdout, '');
});

test("commander's errors are one sr: line each, exit 2; -factor is not read as -f actor (issue 26 #4)", async () => {
  const cases: Array<[string[], string]> = [
    [['upscale', fixture, '-o', 'x.png', '--factr', '4'], "sr: unknown option '--factr' (did you mean --factor?); see sr upscale --help"],
    [['upscale', fixture, '-o', 'x.png', '-factor', '4'], 'sr: Unknown option -factor: long options take two dashes, as in --factor'],
    [
      ['upscale', fixture, '-o', 'x.png', '-max-pixels=9'],
      'sr: Unknown option -max-pixels=9: long options take two dashes, as in --max-pixels=9',
    ],
    [['upscal', fixture], "sr: unknown command 'upscal' (did you mean upscale?); see sr --help"],
    [['upscale'], "sr: missing required argument 'inputs'; see sr upscale --help"],
    [['upscale', fixture, '--device'], "sr: option '--device <kind>' argument missing; see sr upscale --help"],
    [['eval', '--factor', '4'], "sr: required option '--hr <dir>' not specified; see sr eval --help"],
    [['info', 'extra'], "sr: too many arguments for 'info'. Expected 0 arguments but got 1; see sr info --help"],
    [[], 'sr: Expected a command: upscale, info, eval, sweep, explore, vary, devices, worker, queue (sr --help describes them)'],
  ];
  for (const [args, line] of cases) {
    const r = await srIn(args);
    assert.deepEqual([r.status, r.stderr, r.stdout], [2, `${line}\n`, ''], args.join(' '));
  }
  // a value after -- is not an option
  const r = await srIn(['upscale', '--model', 'fixture', '-o', join(tmpdir(), 'never.png'), '--', '-factor']);
  assert.equal(r.status, 3, r.stderr);
});

test('a full stdout or stderr: progress is dropped and the job done; a failed result on stdout is exit 5, no stack (issue 25 #9)', {
  skip: !existsSync('/dev/full') && 'no /dev/full here',
}, () => {
  const run = (args: string[], stdout: 'full' | 'pipe', stderr: 'full' | 'pipe') => {
    const full = openSync('/dev/full', 'w');
    try {
      return spawnSync(process.execPath, [join(root, 'dist', 'src', 'cli', 'index.js'), ...args], {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, SR_DEBUG: '' },
        stdio: ['ignore', stdout === 'full' ? full : 'pipe', stderr === 'full' ? full : 'pipe'],
      });
    } finally {
      closeSync(full);
    }
  };
  const info = run(['info', '--model', 'fixture'], 'full', 'pipe');
  assert.equal(info.status, 5, info.stderr);
  assert.equal(info.stderr, 'sr: Cannot write to stdout: ENOSPC\n');
  const both = run(['info', '--model', 'fixture'], 'full', 'full');
  assert.equal(both.status, 5);
  const out = join(mkdtempSync(join(tmpdir(), 'sr-cli-')), 'full.png');
  const up = run(['upscale', fixture, '-o', out, '--factor', '2', '--model', 'fixture', '--steps', '2', '--t', '20'], 'pipe', 'full');
  assert.equal(up.status, 0);
  assert.ok(existsSync(out), 'the image is written though no progress could be');
  const bad = run(['upscale', join(root, 'no-such.png'), '-o', out, '--model', 'fixture'], 'pipe', 'full');
  assert.equal(bad.status, 3, 'an error keeps its own code when its line cannot be written');
});

test('--input auto finds the noise in a noisy PNG, removes it and says so; --input clean leaves it; sr info names the bound', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sr-cli-'));
  const { data, info } = await sharp(fixture).raw().toBuffer({ resolveWithObject: true });
  // σ 12 grey levels of seeded noise on the clean 32×32 fixture (which reads about 1.4)
  const rng = createRng(12);
  const noisy = Buffer.from(data.map((v) => Math.min(255, Math.max(0, Math.round(v + 12 * rng.normal())))));
  const input = join(dir, 'noisy.png');
  await sharp(noisy, { raw: { width: info.width, height: info.height, channels: info.channels } })
    .png()
    .toFile(input);
  const upscale2x = (from: string, out: string, ...extra: string[]) =>
    sr('upscale', from, '-o', join(dir, out), '--model', 'fixture', '--factor', '2', '--steps', '1', '--seed', '1', ...extra);
  const auto = await upscale2x(input, 'auto.png');
  assert.equal(auto.status, 0, auto.stderr);
  assert.match(auto.stderr, /, noise 1\d\.\d removed by gaussian \(estimated: noisy input\), seed 1/);
  const clean = await upscale2x(input, 'clean.png', '--input', 'clean');
  assert.equal(clean.status, 0, clean.stderr);
  assert.doesNotMatch(clean.stderr, /noise/);
  const plain = await upscale2x(fixture, 'plain.png');
  assert.doesNotMatch(plain.stderr, /noise/);
  const info2 = await sr('info', '--model', 'fixture');
  assert.match(
    info2.stdout,
    /noisy inputs the estimated noise removed first by one evaluation of gaussian {2}\(--input auto: a non-JPEG input whose noise reads 7 grey levels or more\)/,
  );
});
