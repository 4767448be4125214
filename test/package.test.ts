/**
 * The package as a user gets it: `npm pack`, unpacked into a fresh folder's node_modules (its dependencies linked
 * from this checkout's, so no network), imported by name. The README's library snippet must type-check against
 * the packed types, and the packed library must run with its packed fixture model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { root } from './cli-helpers.js';

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
const dir = mkdtempSync(join(tmpdir(), 'sr-pack-'));
const packed = JSON.parse(
  execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }),
) as { filename: string }[];
const modules = join(dir, 'node_modules');
mkdirSync(join(modules, 'boomerang-sr'), { recursive: true });
execFileSync('tar', ['xzf', join(dir, packed[0]!.filename), '-C', join(modules, 'boomerang-sr'), '--strip-components=1']);
for (const dep of [...Object.keys(pkg.dependencies), '@types/node', '@types/ndarray']) {
  mkdirSync(join(modules, dep, '..'), { recursive: true });
  symlinkSync(join(root, 'node_modules', dep), join(modules, dep));
}
writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'user', type: 'module', private: true }));

/** The ```ts block under the README's "### Library" heading. */
function readmeSnippet(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const at = readme.indexOf('### Library');
  const m = /```ts\n([\s\S]*?)```/.exec(readme.slice(at));
  assert.ok(at >= 0 && m, 'README has a ts block under ### Library');
  return m![1]!;
}

test("the README's library snippet type-checks against the packed package, imported by name", () => {
  writeFileSync(join(dir, 'snippet.ts'), readmeSnippet() + '\nexport {};\n');
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        // the packed .d.ts come from a build that type-checked; what packing can break is a missing file, which
        // the test below finds (checking every .d.ts of @types/node too would triple this test's time)
        skipLibCheck: true,
        types: ['node'],
      },
      files: ['snippet.ts'],
    }),
  );
  const r = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('every relative import of the packed type declarations resolves to a packed file', () => {
  const pkgDir = join(modules, 'boomerang-sr');
  const dts = readdirSync(join(pkgDir, 'dist', 'src'), { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.d.ts'));
  assert.ok(dts.includes('index.d.ts'));
  const missing: string[] = [];
  for (const f of dts) {
    const text = readFileSync(join(pkgDir, 'dist', 'src', f), 'utf8');
    for (const m of text.matchAll(/(?:from |import\()'(\.{1,2}\/[^']+)\.js'/g)) {
      const target = join(dirname(join(pkgDir, 'dist', 'src', f)), `${m[1]}.d.ts`);
      if (!existsSync(target)) missing.push(`${f} -> ${m[1]}.js`);
    }
  }
  assert.deepEqual(missing, []);
});

test('the packed package runs: upscale with its fixture model, errors by class, nothing internal exported', async () => {
  writeFileSync(
    join(dir, 'run.mjs'),
    `
    import * as sr from 'boomerang-sr';
    const model = await sr.loadModel('fixture');
    const img = { shape: [3, 8, 8] };
    const lr = new Float32Array(3 * 8 * 8).map((_, i) => Math.sin(i) * 0.5);
    const { default: ndarray } = await import('ndarray');
    const r = await sr.upscale(ndarray(lr, [3, 8, 8]), { model, factor: 2, t: 10, steps: 2, seed: 1 });
    let usage = false;
    try { await sr.upscale(ndarray(lr, [3, 8, 8]), { model, factor: 0 }); } catch (e) { usage = e instanceof sr.UsageError; }
    await model.dispose();
    console.log(JSON.stringify({ shape: r.image.shape, usage, names: Object.keys(sr).sort() }));
  `,
  );
  const r = spawnSync(process.execPath, [join(dir, 'run.mjs')], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { shape: number[]; usage: boolean; names: string[] };
  assert.deepEqual(out.shape, [3, 16, 16]);
  assert.equal(out.usage, true);
  assert.deepEqual(out.names, [
    'AbortError',
    'DeviceError',
    'InputError',
    'ModelError',
    'OutputError',
    'QueueError',
    'SrError',
    'UsageError',
    'analyseVary',
    'estimateWork',
    'evaluate',
    'loadModel',
    'measure',
    'outputFiles',
    'runSweep',
    'runWorker',
    'upscale',
    'upscaleBatch',
    'upscaleFile',
    'upscaleInputs',
    'vary',
    'varyDataset',
    'writeSweepReport',
    'writeVaryReport',
  ]);
});
