/**
 * The explore page in a real browser: Debian's Chromium driven by playwright-core (which never downloads a browser).
 * No console errors or failed requests, every image decoded, the split and the zoom change what a view shows (its
 * pixels, not only a style), every view zooms together, and a click (or Enter) on a candidate shows its command.
 *
 * Without Chromium the test skips, saying so; with SR_REQUIRE_CHROMIUM=1 (set by .ci/run where it installs Chromium)
 * it fails instead. SR_CHROMIUM names another browser binary.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ExploreData } from '../src/explore/explore.js';
import { sr, tempDir } from './cli-helpers.js';

const CANDIDATES = [process.env.SR_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
const chromium = CANDIDATES.find((p): p is string => typeof p === 'string' && p !== '' && existsSync(p)) ?? null;
const required = process.env.SR_REQUIRE_CHROMIUM === '1';
const skip =
  chromium === null && !required
    ? 'no Chromium found (apt-get install chromium, or SR_CHROMIUM=/path/to/chrome): the page is not tested in a browser'
    : false;

test('the explore page works in headless Chromium: images, split, synced zoom, the command of a clicked candidate', { skip }, async () => {
  assert.ok(chromium, `SR_REQUIRE_CHROMIUM=1 but no Chromium at ${CANDIDATES.filter(Boolean).join(', ')}`);
  const dir = join(tempDir('explore-page'), 'page');
  const r = await sr([
    'explore',
    'fixtures/flowers-32.png',
    '-o',
    dir,
    '--model',
    'fixture',
    '--steps',
    '2',
    '--t',
    '20,60',
    '--cascade',
    '1,2',
    '--samples',
    '2',
    '-q',
  ]);
  assert.equal(r.status, 0, r.stderr);
  const data = JSON.parse(readFileSync(join(dir, 'explore.json'), 'utf8')) as ExploreData;
  const { chromium: driver } = await import('playwright-core');
  const browser = await driver.launch({ executablePath: chromium, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${String(e)}`));
    page.on('requestfailed', (q) => problems.push(`request failed: ${q.url()}`));
    const requested: string[] = [];
    page.on('request', (q) => requested.push(q.url()));
    await page.goto(pathToFileURL(join(dir, 'index.html')).href, { waitUntil: 'load' });

    // every image decoded, and nothing asked of a network
    const images = await page.evaluate(() =>
      [...document.images].map((i) => ({ src: i.getAttribute('src'), ok: i.complete && i.naturalWidth > 0 })),
    );
    assert.equal(images.length, data.candidates.length * 3, JSON.stringify(images));
    assert.deepEqual(
      images.filter((i) => !i.ok),
      [],
    );
    assert.deepEqual(
      requested.filter((u) => !u.startsWith('file:') && !u.startsWith('data:')),
      [],
    );
    assert.equal(await page.locator('.cand').count(), data.candidates.length);

    // the split: the output's share of the first view, in pixels
    const compare = page.locator('.view.compare').first();
    const before = await compare.screenshot();
    await page.focus('#split');
    await page.keyboard.press('Home'); // 0: the output over the whole view
    assert.equal(
      await page
        .locator('.after')
        .first()
        .evaluate((e) => getComputedStyle(e).clipPath),
      'inset(0px 0px 0px 0%)',
    );
    const allOutput = await compare.screenshot();
    assert.ok(!before.equals(allOutput), 'moving the split changes the view');
    await page.keyboard.press('End');
    assert.equal(
      await page
        .locator('.after')
        .first()
        .evaluate((e) => getComputedStyle(e).clipPath),
      'inset(0px 0px 0px 100%)',
    );

    // zoom: every view shows the same magnified region
    const map = page.locator('.view.map').first();
    const unzoomed = await map.screenshot();
    await page.click('#zoom-in');
    await page.click('#zoom-in');
    const transforms = await page.evaluate(() =>
      [...document.querySelectorAll<HTMLImageElement>('img.zoomed')].map((i) => i.style.transform),
    );
    assert.equal(new Set(transforms).size, 1, 'all views share one zoom');
    assert.match(transforms[0]!, /^scale\(2\.25\)/);
    const zoomed = await map.screenshot();
    assert.ok(!unzoomed.equals(zoomed), 'zooming changes the view');
    assert.equal(await page.textContent('#zoom-level'), '2.3×');
    // pan with the keyboard (from the page, not the slider), then fit again
    await page.locator('h1').click();
    const t0 = transforms[0];
    await page.keyboard.press('ArrowRight');
    const panned = await page
      .locator('img.zoomed')
      .first()
      .evaluate((i) => (i as HTMLImageElement).style.transform);
    assert.notEqual(panned, t0);
    await page.keyboard.press('0');
    assert.match(
      await page
        .locator('img.zoomed')
        .first()
        .evaluate((i) => (i as HTMLImageElement).style.transform),
      /^scale\(1\) translate\(0%, 0%\)|^scale\(1\) translate\(-?0%, -?0%\)/,
    );

    // a click on a candidate shows its command; Enter on another (keyboard) shows that one's
    assert.equal(await page.isDisabled('#copy'), true);
    await page.locator('.cand h2').nth(1).click();
    assert.equal(await page.textContent('#command'), data.candidates[1]!.command);
    assert.equal(await page.locator('.cand').nth(1).getAttribute('aria-pressed'), 'true');
    assert.match(
      data.candidates[1]!.command,
      /^sr upscale fixtures\/flowers-32\.png -o flowers-32-t20-N2\.png .*--t 20 --cascade 2 .*--seed 0 --samples 2$/,
    );
    await page.locator('.cand').nth(2).focus();
    await page.keyboard.press('Enter');
    assert.equal(await page.textContent('#command'), data.candidates[2]!.command);
    assert.equal(await page.locator('.cand').nth(1).getAttribute('aria-pressed'), 'false');
    // the copy button answers (the clipboard, or a selection to copy by hand)
    await page.click('#copy');
    await page.waitForFunction(() => (document.getElementById('copied')?.textContent ?? '') !== '');
    assert.match((await page.textContent('#copied')) ?? '', /copied|Ctrl\+C/);
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
  }
});
