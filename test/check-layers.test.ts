/**
 * The layering check (scripts/check-layers.mjs, run by `npm run lint`): it finds what it is meant to find on made-up
 * import graphs, and the tree as it is passes it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { root } from './cli-helpers.js';

type Graph = Map<string, string[]>;
const { importGraph, offences } = (await import(pathToFileURL(join(root, 'scripts', 'check-layers.mjs')).href)) as {
  importGraph: () => Graph;
  offences: (graph: Graph) => string[];
};

const graph = (edges: Record<string, string[]>): Graph => new Map(Object.entries(edges));

test('the tree has no import cycle and no import of a higher layer or a peer', () => {
  const g = importGraph();
  assert.ok(g.size > 50, `${g.size} files read`);
  assert.ok(g.get('src/upscale.ts')!.includes('src/model/session.ts'), 'imports are read');
  assert.deepEqual(offences(g), []);
});

test('an import of a higher layer, of a peer, a cycle and a folder in no layer are each reported', () => {
  assert.deepEqual(
    offences(
      graph({
        'src/queue/dispatch.ts': ['src/batch/batch.ts', 'src/errors.ts'],
        'src/batch/batch.ts': ['src/vary/plan.ts', 'src/jobs/outcome.ts'],
        'src/vary/plan.ts': [],
        'src/jobs/outcome.ts': [],
        'src/errors.ts': [],
        'src/eval/a.ts': ['src/eval/b.ts'],
        'src/eval/b.ts': ['src/eval/a.ts'],
        'src/nowhere/x.ts': [],
      }),
    ),
    [
      'cycle: src/eval/a.ts -> src/eval/b.ts -> src/eval/a.ts',
      'sideways: src/batch/batch.ts -> src/vary/plan.ts',
      'unplaced: src/nowhere/x.ts (add nowhere to LAYERS in scripts/check-layers.mjs)',
      'upward: src/queue/dispatch.ts -> src/batch/batch.ts',
    ],
  );
});

test("a feature reaches the queue only through the payload envelope; dispatching is the runner's", () => {
  assert.deepEqual(
    offences(
      graph({
        'src/vary/payload.ts': ['src/queue/jobs.ts'],
        'src/eval/sweep.ts': ['src/queue/dispatch.ts'],
        'src/jobs/runner.ts': ['src/queue/dispatch.ts', 'src/queue/jobs.ts'],
        'src/queue/dispatch.ts': [],
        'src/queue/jobs.ts': [],
      }),
    ),
    ['past the runner: src/eval/sweep.ts -> src/queue/dispatch.ts'],
  );
});

test('an import within one folder is free, a cycle within one folder is not', () => {
  assert.deepEqual(offences(graph({ 'src/model/a.ts': ['src/model/b.ts'], 'src/model/b.ts': [] })), []);
  assert.equal(
    offences(graph({ 'src/explore/page.ts': ['src/explore/explore.ts'], 'src/explore/explore.ts': ['src/explore/page.ts'] })).length,
    1,
  );
});
