/**
 * The job runner (src/jobs/runner.ts) here, on made-up units: results in the units' order, progress in their
 * weights, the stop rule (a unit that stops is recorded and ends the run; one that throws ends it unrecorded), and a
 * worker's handler of a kind of unit (a stop fails the job; a result goes back encoded).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelError } from '../src/errors.js';
import { runUnits, unitHandler, type Ran, type UnitsProgress, type WorkUnit } from '../src/jobs/runner.js';
import type { JobContext } from '../src/queue/jobs.js';

interface Unit extends WorkUnit<string> {
  name: string;
}

const unit = (name: string, weight: number, ran: (ctx: Parameters<WorkUnit<string>['run']>[1]) => Promise<Ran<string>>): Unit => ({
  name,
  label: name,
  weight,
  run: (_model, ctx) => ran(ctx),
});
const ok = (name: string, weight: number) =>
  unit(name, weight, async (ctx) => {
    ctx.onFraction(0.5, 'half');
    return { result: `${name} done`, stop: null };
  });

test('units run here in order: each result recorded once, progress in their weights up to the total', async () => {
  const results: string[] = [];
  const progress: UnitsProgress<Unit>[] = [];
  const stoppedBy = await runUnits(
    [ok('a', 1), ok('b', 3)],
    { model: null },
    {
      onProgress: (e) => progress.push(e),
      onResult: async (u, r) => {
        results.push(`${u.name}: ${r}`);
      },
    },
  );
  assert.equal(stoppedBy, null);
  assert.deepEqual(results, ['a: a done', 'b: b done']);
  assert.deepEqual(
    progress.map((e) => [e.done, e.total, e.label, e.what]),
    [
      [0, 4, 'a', null],
      [0.5, 4, 'a', 'half'],
      [1, 4, 'a', null],
      [1, 4, 'b', null],
      [2.5, 4, 'b', 'half'],
      [4, 4, 'b', null],
    ],
  );
  assert.ok(progress.every((e) => e.queue === null && e.unit !== null));
});

test('a unit that stops the run is recorded and ends it; one that throws ends it unrecorded', async () => {
  const failure = new ModelError('the model failed');
  const results: string[] = [];
  const onResult = async (u: Unit, r: string) => {
    results.push(`${u.name}: ${r}`);
  };
  const stopping = unit('s', 1, async () => ({ result: 's failed', stop: failure }));
  assert.equal(await runUnits([ok('a', 1), stopping, ok('b', 1)], { model: null }, { onResult }), failure);
  assert.deepEqual(results, ['a: a done', 's: s failed']);
  results.length = 0;
  const throwing = unit('t', 1, async () => {
    throw failure;
  });
  assert.equal(await runUnits([throwing, ok('b', 1)], { model: null }, { onResult }), failure);
  assert.deepEqual(results, []);
});

test("a worker's handler: a stop fails the job with its error, a result goes back encoded", async () => {
  const failure = new ModelError('the model failed');
  const handler = unitHandler<string>({
    decode: (data) => ({
      unit: unit('x', 1, async () => ({ result: String(data), stop: data === 'stop' ? failure : null })),
      model: null,
    }),
    encodeResult: (r) => r.toUpperCase(),
  });
  const fractions: number[] = [];
  const ctx: JobContext = {
    model: () => assert.fail('a unit without a model loads none'),
    signal: new AbortController().signal,
    onFraction: (f) => fractions.push(f),
  };
  assert.equal(handler.label(handler.check('go')), 'x');
  assert.equal(await handler.run(handler.check('go'), ctx), 'GO');
  await assert.rejects(handler.run(handler.check('stop'), ctx), failure);
});
