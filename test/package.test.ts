/**
 * The package as a library user gets it (issue 26 #1, #2): `npm pack`, then installed into a fresh project the way
 * the README tells users, with `onnxruntime-node-install=skip` in the project's .npmrc (else onnxruntime-node's
 * postinstall downloads CUDA binaries from outside the npm registry, and fails offline). So that no network is
 * needed, the project's lockfile is derived from this checkout's (the same versions and integrity hashes for every
 * runtime dependency), and `npm ci --offline` takes each tarball from npm's cache, where this checkout's own
 * `npm ci` put them. The README's library snippet must type-check against the installed types with `strict` and
 * without `skipLibCheck` (the published .d.ts need nothing beyond the package's dependencies and @types/node), and
 * the installed library must run with its packed fixture model.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { root } from './cli-helpers.js';

interface Lock {
  packages: Record<string, { dev?: boolean; [k: string]: unknown }>;
}
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
  engines: Record<string, string>;
};
const dir = mkdtempSync(join(tmpdir(), 'sr-pack-'));
const modules = join(dir, 'node_modules');
/** Why the install could not run here (npm's cache lacks a tarball: this checkout was not installed by npm ci). */
let notInstalled: string | null = null;

before(() => {
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', dir], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }),
  ) as { filename: string }[];
  const tarball = `file:${packed[0]!.filename}`;
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as Lock;
  const packages: Lock['packages'] = {
    '': { name: 'user', dependencies: { 'boomerang-sr': tarball } },
    'node_modules/boomerang-sr': {
      version: pkg.version,
      resolved: tarball,
      license: 'MIT',
      dependencies: pkg.dependencies,
      bin: { sr: 'dist/src/cli/index.js' },
      engines: pkg.engines,
    },
  };
  for (const [path, entry] of Object.entries(lock.packages)) if (path !== '' && !entry.dev) packages[path] = entry;
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'user', type: 'module', private: true, dependencies: { 'boomerang-sr': tarball } }),
  );
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({ name: 'user', lockfileVersion: 3, requires: true, packages }));
  // the README's line, in the user's project
  writeFileSync(join(dir, '.npmrc'), 'onnxruntime-node-install=skip\n');
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (/^npm_config_onnxruntime|^ONNXRUNTIME_NODE_INSTALL/i.test(k)) delete env[k];
  const r = spawnSync('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, encoding: 'utf8', env });
  if (r.status !== 0 && /ENOTCACHED/.test(r.stdout + r.stderr)) {
    notInstalled = `npm's cache lacks a dependency's tarball (run npm ci in this checkout first): ${(r.stdout + r.stderr).trim().split('\n')[0]}`;
    return;
  }
  assert.equal(r.status, 0, `npm ci of the packed package failed:\n${r.stdout}${r.stderr}`);
  // the user's own @types/node, as any TypeScript project on Node has it
  mkdirSync(join(modules, '@types'), { recursive: true });
  if (!existsSync(join(modules, '@types', 'node')))
    symlinkSync(join(root, 'node_modules', '@types', 'node'), join(modules, '@types', 'node'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** The ```ts block under the README's "### Library" heading. */
function readmeSnippet(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const at = readme.indexOf('### Library');
  const m = /```ts\n([\s\S]*?)```/.exec(readme.slice(at));
  assert.ok(at >= 0 && m, 'README has a ts block under ### Library');
  return m![1]!;
}

test('the packed package installs offline with the .npmrc line the README gives', (t) => {
  if (notInstalled) return t.skip(notInstalled);
  assert.ok(existsSync(join(modules, 'boomerang-sr', 'dist', 'src', 'index.d.ts')));
  assert.ok(existsSync(join(modules, 'onnxruntime-node', 'package.json')));
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  assert.match(readme, /onnxruntime-node-install=skip/);
});

test("the README's library snippet type-checks against the installed package, strict and without skipLibCheck", (t) => {
  if (notInstalled) return t.skip(notInstalled);
  // with the ndarray types missing, image would silently be any and this line would compile
  const notAny = '// @ts-expect-error an ImageTensor is no string\nconst notAString: string = image;\n';
  writeFileSync(join(dir, 'snippet.ts'), `${readmeSnippet()}\n${notAny}export {};\n`);
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        // every .d.ts is checked: a published type that needs a package the user does not get (a devDependency,
        // as @types/ndarray was) fails here instead of silently becoming any
        skipLibCheck: false,
        types: ['node'],
      },
      files: ['snippet.ts'],
    }),
  );
  const r = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('every relative import of the packed type declarations resolves to a packed file', (t) => {
  if (notInstalled) return t.skip(notInstalled);
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

test('the packed package runs: upscale with its fixture model, errors by class, nothing internal exported', async (t) => {
  if (notInstalled) return t.skip(notInstalled);
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
    'UNCERTAINTY_COLORS',
    'UNCERTAINTY_SCALE_MAX',
    'UsageError',
    'analyseVary',
    'estimateWork',
    'evaluate',
    'explore',
    'loadModel',
    'measure',
    'outputFiles',
    'runSweep',
    'runWorker',
    'uncertaintyImage',
    'uncertaintyMap',
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
