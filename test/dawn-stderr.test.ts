/**
 * Dawn's native log lines ("Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced …") are kept
 * off the user's stderr (issue 26 #4). No Vulkan is needed: a loader hook stands in for Dawn, writing its two
 * lines straight to file descriptor 2 when onnxruntime-node is first imported, as Dawn does from native code in
 * the process that loads the model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { dawnLineFilter, mayStartDawn } from '../src/cli/dawn-stderr.js';
import { srInterrupted, srProcess, tempDir } from './cli-helpers.js';

const DAWN =
  'Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 500000 to 1000000 to fit dynamic offset allocation limit.\n' +
  'Warning: maxDynamicStorageBuffersPerPipelineLayout artificially reduced from 500000 to 1000000 to fit dynamic offset allocation limit.\n';

const dir = tempDir('dawn');
const hooks = join(dir, 'hooks.mjs');
writeFileSync(
  hooks,
  `import { writeSync } from 'node:fs';
let done = false;
export async function resolve(specifier, context, next) {
  if (specifier === 'onnxruntime-node' && !done) { done = true; writeSync(2, ${JSON.stringify(DAWN)}); }
  return next(specifier, context);
}
`,
);
const preload = join(dir, 'fake-dawn.mjs');
writeFileSync(preload, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
const fakeDawn = { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${preload}`.trim() };

test('the filter drops whole Dawn lines and passes the rest on at once, however the text is cut', () => {
  const text = `sr: --device auto: using the CPU\n${DAWN}\r\x1b[2K[###---] 50%\r\x1b[2K[######] 100%\nError: x\nWarn\nsr: wrote a.png\nWarning: tail`;
  const want = 'sr: --device auto: using the CPU\n\r\x1b[2K[###---] 50%\r\x1b[2K[######] 100%\nWarn\nsr: wrote a.png\n';
  for (let cut = 0; cut <= text.length; cut++) {
    let out = '';
    const f = dawnLineFilter((t) => (out += t));
    f.push(text.slice(0, cut));
    f.push(text.slice(cut));
    f.end();
    assert.equal(out, want, `cut at ${cut}`);
  }
  // a progress bar redrawn without a newline is not held back
  let out = '';
  dawnLineFilter((t) => (out += t)).push('\r\x1b[2K[###');
  assert.equal(out, '\r\x1b[2K[###');
});

test('which commands may start Dawn: sr devices and a --device other than cpu', () => {
  assert.equal(mayStartDawn(['devices']), true);
  assert.equal(mayStartDawn(['upscale', 'a.png', '-o', 'b.png', '--device', 'webgpu']), true);
  assert.equal(mayStartDawn(['eval', '--device=auto']), true);
  assert.equal(mayStartDawn(['upscale', 'a.png', '--device', 'cpu']), false);
  assert.equal(mayStartDawn(['upscale', 'a.png', '-o', 'b.png']), false);
  assert.equal(mayStartDawn(['upscale', '--', 'devices', '--device', 'webgpu']), false);
  assert.equal(mayStartDawn(['info']), false);
});

test('sr devices and --device auto print no Dawn lines; SR_DEBUG=1 shows them', () => {
  const devices = srProcess(['devices'], fakeDawn);
  assert.equal(devices.status, 0, devices.stderr);
  assert.match(devices.stdout, /^--device auto {4}/m);
  assert.doesNotMatch(devices.stderr, /artificially reduced/);
  const out = join(dir, 'auto.png');
  const up = srProcess(
    ['upscale', 'fixtures/flowers-32.png', '-o', out, '--model', 'fixture', '--t', '10', '--steps', '2', '--seed', '1', '--device', 'auto'],
    fakeDawn,
  );
  assert.equal(up.status, 0, up.stderr);
  assert.doesNotMatch(up.stderr, /artificially reduced/);
  assert.match(up.stderr, /^sr: --device auto: /m);
  assert.match(up.stderr, /^wrote .*auto\.png /m);
  const failing = srProcess(
    ['upscale', 'fixtures/flowers-32.png', '-o', join(dir, 'no.png'), '--model', 'fixture', '--device', 'auto', '--t', '0'],
    fakeDawn,
  );
  assert.deepEqual([failing.status, failing.stderr], [2, 'sr: Expected integer t in 1..999 but received 0\n']);
  const debug = srProcess(['devices', '--no-check'], { ...fakeDawn, SR_DEBUG: '1' });
  assert.match(debug.stderr, /^Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced/m);
});

test('a filtered run still stops on SIGINT and SIGTERM: exit 130/143, nothing left behind', async () => {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    const folder = join(dir, `sig-${sig}`);
    mkdirSync(folder);
    const args = ['upscale', 'fixtures/flowers-64.png', '-o', join(folder, 'out.png'), '--model', 'fixture', '--factor', '8'];
    // the signal goes at the first progress line (printed at once, then every 5 s on a pipe), long before the 300
    // steps end (about 15 s with the fixture model): a run shorter than 5 s would show no line until its last
    const r = await srInterrupted([...args, '--t', '300', '--steps', '300', '--seed', '1', '--device', 'auto'], /\d+% /, sig);
    assert.ok(r.sent, r.stderr);
    assert.equal(r.status, sig === 'SIGINT' ? 130 : 143, r.stderr);
    assert.match(r.stderr, new RegExp(`^sr: Interrupted by ${sig}$`, 'm'));
    assert.deepEqual(readdirSync(folder), []);
  }
});
