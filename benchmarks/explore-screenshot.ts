/**
 * The README's picture of an explore page: opens DIR/index.html in Debian's headless Chromium (playwright-core),
 * zooms every view, picks one candidate (its command shows) and saves the viewport as a PNG.
 *
 *   node dist/benchmarks/explore-screenshot.js DIR OUT.png [--pick N] [--zoom STEPS] [--width W] [--height H]
 *
 * Needs `chromium` (apt-get install -y chromium) or SR_CHROMIUM=/path/to/chrome.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    pick: { type: 'string', default: '1' },
    zoom: { type: 'string', default: '2' },
    width: { type: 'string', default: '1366' },
    height: { type: 'string', default: '900' },
  },
});
const [dir, out] = positionals;
if (!dir || !out) throw new Error('usage: explore-screenshot DIR OUT.png [--pick N] [--zoom STEPS] [--width W] [--height H]');
const exe = [process.env.SR_CHROMIUM, '/usr/bin/chromium'].find((p): p is string => Boolean(p) && existsSync(p!));
if (!exe) throw new Error('no chromium (apt-get install -y chromium, or SR_CHROMIUM=/path/to/chrome)');
const browser = await chromium.launch({ executablePath: exe, args: ['--no-sandbox'] });
try {
  const page = await browser.newPage({ viewport: { width: Number(values.width), height: Number(values.height) } });
  await page.goto(pathToFileURL(resolve(dir, 'index.html')).href, { waitUntil: 'load' });
  for (let i = 0; i < Number(values.zoom); i++) await page.click('#zoom-in');
  await page.locator('.cand h2').nth(Number(values.pick)).click();
  await page.screenshot({ path: out });
  console.log(out);
} finally {
  await browser.close();
}
