/**
 * `sr explore`: the grid on one image, the files it writes, resuming, the cost guard, the scores, and the command
 * of each candidate (run, it writes the candidate's image and map pixel for pixel).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { splitCommand, upscaleCommand, shellWord } from '../src/explore/command.js';
import { explore, type ExploreData } from '../src/explore/explore.js';
import { scoreCandidate, lumaOf } from '../src/explore/scores.js';
import { decodeImage } from '../src/image/io.js';
import { matlabImresize, upsample } from '../src/image/upsample.js';
import { isOneLine, sr, tempDir } from './cli-helpers.js';

const IN = 'fixtures/flowers-32.png';
const BASE = ['--model', 'fixture', '--steps', '2', '-q'];

const pixels = async (path: string) => sharp(path).raw().toBuffer();

test('sr explore runs the t x cascade grid once, writes the page and data, and a rerun computes only what is missing', async () => {
  const dir = join(tempDir('explore'), 'out');
  const first = await sr(['explore', IN, '-o', dir, ...BASE, '--t', '20,40', '--cascade', '1,2', '--samples', '2']);
  assert.equal(first.status, 0, first.stderr);
  const data = JSON.parse(readFileSync(join(dir, 'explore.json'), 'utf8')) as ExploreData;
  assert.deepEqual(
    data.candidates.map((c) => c.id),
    ['t20-N1', 't20-N2', 't40-N1', 't40-N2'],
  );
  for (const c of data.candidates) {
    assert.ok(existsSync(join(dir, c.image)), c.image);
    assert.ok(c.uncertainty && existsSync(join(dir, c.uncertainty)), String(c.uncertainty));
    assert.ok(Number.isFinite(c.scores.fidelity) && (c.scores.detail ?? 0) > 0 && (c.scores.invention ?? 0) > 0, JSON.stringify(c.scores));
    assert.equal(c.settings.samples, 2);
  }
  assert.ok(existsSync(join(dir, data.bicubic.image)));
  const html = readFileSync(join(dir, 'index.html'), 'utf8');
  assert.doesNotMatch(html, /https?:\/\//, 'the page loads nothing from a network');
  for (const c of data.candidates) assert.ok(html.includes(c.image));
  // the same run again: nothing computed, the same data; one more t: only its candidates
  const again = await sr([
    'explore',
    IN,
    '-o',
    dir,
    '--model',
    'fixture',
    '--steps',
    '2',
    '--t',
    '20,40',
    '--cascade',
    '1,2',
    '--samples',
    '2',
  ]);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /4 candidates, 4 already in .*nothing to compute/);
  assert.match(again.stderr, /0 computed, 4 already done/);
  const more = await sr([
    'explore',
    IN,
    '-o',
    dir,
    '--model',
    'fixture',
    '--steps',
    '2',
    '--t',
    '20,40,60',
    '--cascade',
    '1,2',
    '--samples',
    '2',
  ]);
  assert.equal(more.status, 0, more.stderr);
  assert.match(more.stderr, /6 candidates, 4 already in .*; 2 to compute: 12 model evaluations/);
  assert.equal(readFileSync(join(dir, 'explore.jsonl'), 'utf8').trim().split('\n').length, 6);
  // another seed is another run: every candidate again, under new file names
  const seeded = await sr(['explore', IN, '-o', dir, ...BASE, '--t', '20', '--samples', '2', '--seed', '5']);
  assert.equal(seeded.status, 0, seeded.stderr);
  const d2 = JSON.parse(readFileSync(join(dir, 'explore.json'), 'utf8')) as ExploreData;
  assert.equal(d2.candidates.length, 1);
  assert.ok(!data.candidates.some((c) => c.image === d2.candidates[0]!.image));
  assert.match(d2.candidates[0]!.command, /--seed 5/);
});

test("each candidate's command writes its image and uncertainty map pixel for pixel", async () => {
  const dir = tempDir('explore-cmd');
  const out = join(dir, 'page');
  const r = await sr(['explore', IN, '-o', out, ...BASE, '--t', '30', '--cascade', '1,2', '--samples', '3', '--reduce', 'median']);
  assert.equal(r.status, 0, r.stderr);
  const data = JSON.parse(readFileSync(join(out, 'explore.json'), 'utf8')) as ExploreData;
  for (const c of data.candidates) {
    const words = splitCommand(c.command);
    assert.deepEqual(words.slice(0, 3), ['sr', 'upscale', IN]);
    assert.match(c.command, /--samples 3 --reduce median$/);
    // the command's own output names, moved into the temp folder
    const args = words.slice(1).map((w, i, all) => (all[i - 1] === '-o' || all[i - 1] === '--uncertainty' ? join(dir, w) : w));
    const run = await sr([...args, '-q']);
    assert.equal(run.status, 0, run.stderr);
    const o = words[words.indexOf('-o') + 1]!;
    const u = words[words.indexOf('--uncertainty') + 1]!;
    assert.ok((await pixels(join(dir, o))).equals(await pixels(join(out, c.image))), `${c.id}: image`);
    assert.ok((await pixels(join(dir, u))).equals(await pixels(join(out, c.uncertainty!))), `${c.id}: map`);
  }
});

test('sr explore checks before any work: the cost guard, the input, the flags', async () => {
  const dir = join(tempDir('explore-guard'), 'out');
  const big = await sr([
    'explore',
    IN,
    '-o',
    dir,
    '--model',
    'fixture',
    '--factor',
    '300',
    '--t',
    '50,100',
    '--steps',
    '10',
    '--samples',
    '4',
  ]);
  assert.equal(big.status, 2, big.stderr);
  assert.ok(isOneLine(big.stderr), big.stderr);
  assert.match(big.stderr, /2 of 2 candidates to compute: 20,480 model evaluations \(512 tiles\), about \d+ min .*--yes/);
  assert.equal(existsSync(dir), false);
  const missing = await sr(['explore', 'no-such.png', '-o', dir, ...BASE]);
  assert.equal(missing.status, 3);
  const noOut = await sr(['explore', IN, ...BASE]);
  assert.equal(noOut.status, 2);
  assert.match(noOut.stderr, /--output/);
  const badPreset = await sr(['explore', IN, '-o', dir, ...BASE, '--preset', 'fidelity']);
  assert.equal(badPreset.status, 2);
  assert.match(badPreset.stderr, /Unknown preset "fidelity" for model fixture/);
  const badReduce = await sr(['explore', IN, '-o', dir, ...BASE, '--reduce', 'none']);
  assert.equal(badReduce.status, 2);
  const overFile = await sr(['explore', IN, '-o', IN, ...BASE]);
  assert.equal(overFile.status, 5);
  assert.equal(existsSync(dir), false);
});

test('the library: the model default with no lists, one sample kept when asked, and the scores', async () => {
  const dir = tempDir('explore-lib');
  const r = await explore({ input: IN, out: dir, model: 'fixture', samples: 1, method: { steps: 2 } });
  assert.deepEqual(
    r.candidates.map((c) => [c.id, c.uncertainty, c.scores?.invention]),
    [['model-default', null, null]],
  );
  assert.match(r.candidates[0]!.command, /--seed 0 --samples 1$/);
  assert.doesNotMatch(r.candidates[0]!.command, /--uncertainty/);
  // the scores' definitions: the bicubic enlargement has detail 1, and its fidelity is that of its own shrink
  const lr = (await decodeImage(IN)).rgb;
  const up = upsample(lr, 4, 'bicubic');
  const s = scoreCandidate(up, lr, 4, lumaOf(up), null);
  assert.equal(s.detail, 1);
  assert.deepEqual(s, r.bicubic.scores);
  assert.equal(matlabImresize(up, 1 / 4).shape[1], 32);
  assert.ok(s.fidelity > 25 && s.fidelity < 60, String(s.fidelity));
  // an output too small for the detail measure's window has no detail score, and the rest still works
  const tiny = join(dir, 'tiny.png');
  await sharp({ create: { width: 2, height: 3, channels: 3, background: '#336699' } })
    .png()
    .toFile(tiny);
  const t = await explore({ input: tiny, out: join(dir, 'tiny'), model: 'fixture', ts: [20], method: { steps: 2 } });
  assert.equal(t.candidates[0]!.scores!.detail, null);
  assert.ok(Number.isFinite(t.candidates[0]!.scores!.fidelity));
  assert.equal(t.bicubic.scores.fidelity, Infinity);
});

test('commands quote what a shell would split', () => {
  assert.equal(shellWord('a b.png'), "'a b.png'");
  assert.equal(shellWord("it's.png"), `'it'\\''s.png'`);
  const line = upscaleCommand('my photos/a b.png', 'a b-t1.png', { factor: 4, t: 1, seed: 0 }, { model: 'fixture' });
  assert.equal(line, "sr upscale 'my photos/a b.png' -o 'a b-t1.png' --model fixture --factor 4 --t 1 --seed 0");
  assert.deepEqual(splitCommand(line).slice(2, 5), ['my photos/a b.png', '-o', 'a b-t1.png']);
});
