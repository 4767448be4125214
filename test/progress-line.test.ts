/** The progress line's ETA: the estimate until the rate is known, then the rate since the first update. */
import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { createProgressLine } from '../src/cli/progress.js';

function terminal() {
  const lines: string[] = [];
  return { lines, stream: { isTTY: true, write: (s: string) => lines.push(s.replace('\r\x1b[2K', '')) } };
}

const eta = (line: string | undefined): string | null => /ETA ([\d.]+)s/.exec(line ?? '')?.[1] ?? null;

test('the ETA goes by the estimate first, then blends to the rate since the first update (not since the start)', () => {
  let now = 0;
  mock.method(performance, 'now', () => now);
  try {
    const { lines, stream } = terminal();
    const line = createProgressLine(stream);
    now = 5000; // the model load: before the first update, not counted in the rate
    line.expect(100);
    line.update(0, 100, 'upsampling');
    assert.equal(eta(lines.at(-1)), '100.0');
    now = 7000; // under 3 s since the first update: still the estimate, less the time since
    line.update(2, 100, 'tile 1');
    assert.equal(eta(lines.at(-1)), '98.0');
    // 10 s for 5%: the rate says 190 s, trusted a quarter (5% of the 20% it takes), the estimate 90 s
    now = 15000;
    line.update(5, 100, 'tile 2');
    assert.equal(eta(lines.at(-1)), '115.0');
    now = 25000; // 20 s for 50%: the rate alone, 20 s
    line.update(50, 100, 'tile 3');
    assert.equal(eta(lines.at(-1)), '20.0');
  } finally {
    mock.restoreAll();
  }
});

test('without an estimate, no ETA until the rate has run a few seconds', () => {
  let now = 0;
  mock.method(performance, 'now', () => now);
  try {
    const { lines, stream } = terminal();
    const line = createProgressLine(stream);
    now = 4000;
    line.update(0, 10, 'a');
    now = 5000;
    line.update(1, 10, 'b');
    assert.equal(eta(lines.at(-1)), null);
    now = 8000; // 4 s for 20%
    line.update(2, 10, 'c');
    assert.equal(eta(lines.at(-1)), '16.0');
  } finally {
    mock.restoreAll();
  }
});
