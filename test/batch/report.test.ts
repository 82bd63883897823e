/**
 * report.html in a real headless browser (Debian's chromium through playwright-core): every slide is a
 * row with its thumbnail loaded, both charts are drawn with every segmented slide, the table sorts,
 * and the page runs without errors. A screenshot is left in .cache/batch-report.png to look at.
 */
import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { smallSlides } from '../helpers/batch-slides';
import { runCli } from '../helpers/cli';
import { BROKEN_SVS, MODELS, ROOT } from '../helpers/paths';

const CHROMIUM = process.env.H2G_CHROMIUM ?? '/usr/bin/chromium';
const SCREENSHOT = path.join(ROOT, '.cache', 'batch-report.png');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'h2g-report-'));
const out = path.join(tmp, 'out');

let context: BrowserContext;
let page: Page;
const problems: string[] = [];

beforeAll(async () => {
  const cohort = path.join(tmp, 'cohort');
  mkdirSync(cohort);
  smallSlides(3).forEach((s, i) => copyFileSync(s, path.join(cohort, `case ${i + 1} <b>&.tif`)));
  copyFileSync(BROKEN_SVS, path.join(cohort, 'corrupt.svs'));
  const r = await runCli([
    'batch',
    cohort,
    '--out-dir',
    out,
    '--cache',
    path.join(tmp, 'cache'),
    '--models',
    MODELS.tiny,
  ]);
  expect(r.code).toBe(1); // the corrupt slide
  context = await chromium.launchPersistentContext(path.join(tmp, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
    viewport: { width: 1280, height: 2400 },
  });
  page = await context.newPage();
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  page.on('requestfailed', (req) => problems.push(`${req.url()}: ${req.failure()?.errorText}`));
  await page.goto(`file://${path.join(out, 'report.html')}`);
  await page.waitForLoadState('load');
}, 240_000);

afterAll(async () => {
  await context?.close();
});

const column = (index: number) =>
  page.$$eval(
    `#slides tbody tr`,
    (rows, i) =>
      rows.map((r) => (r as unknown as { cells: { dataset: { sort?: string } }[] }).cells[i]!.dataset.sort ?? ''),
    index,
  );

test('every slide is a row; each segmented one shows its loaded overlay thumbnail and a GeoJSON link', async () => {
  const rows = await page.$$eval('#slides tbody tr', (trs) =>
    trs.map((tr) => {
      const img = tr.querySelector('img');
      return {
        name: tr.getAttribute('data-name'),
        status: tr.className,
        thumbnail: img ? img.complete && img.naturalWidth > 0 : null,
        geojson: tr.querySelector('a.file')?.getAttribute('href') ?? null,
      };
    }),
  );
  expect(rows).toEqual([
    {
      name: 'case 1 _b_&',
      status: 'ok',
      thumbnail: true,
      geojson: 'slides/case%201%20_b_%26/case%201%20_b_%26.geojson',
    },
    {
      name: 'case 2 _b_&',
      status: 'ok',
      thumbnail: true,
      geojson: 'slides/case%202%20_b_%26/case%202%20_b_%26.geojson',
    },
    {
      name: 'case 3 _b_&',
      status: 'ok',
      thumbnail: true,
      geojson: 'slides/case%203%20_b_%26/case%203%20_b_%26.geojson',
    },
    { name: 'corrupt', status: 'failed', thumbnail: null, geojson: null },
  ]);
  expect(await page.textContent('tr.failed td.notes')).toMatch(/OpenSlide does not recognise .*corrupt\.svs/);
  expect(await page.textContent('.counts')).toContain('4 slides3 segmented1 failed0 pending');
});

test('the charts: one bar per segmented slide, named, and the share histogram counts them all', async () => {
  const charts = await page.$$('.charts svg');
  expect(charts).toHaveLength(2);
  const burden = await charts[0]!.evaluate((svg) => ({
    labels: [...svg.querySelectorAll('text')].map((t) => t.textContent),
    bars: svg.querySelectorAll('path[fill="#c80000"]').length,
  }));
  for (const n of [1, 2, 3]) expect(burden.labels).toContain(`case ${n} _b_&`);
  expect(burden.bars).toBe(3 + 1); // three slides and the legend's swatch
  const bandLabels = await charts[1]!.evaluate((svg) =>
    [...svg.querySelectorAll('text')].map((t) => t.textContent ?? '').filter((t) => / slides?$/.test(t)),
  );
  // Each non-empty band is labelled with its count: together, the three segmented slides.
  expect(bandLabels.reduce((sum, t) => sum + parseInt(t, 10), 0)).toBe(3);
});

test('clicking a heading sorts the table by it, again reverses; slides without figures stay last', async () => {
  const areaHeading = page.locator('#slides th', { hasText: 'Tumour area' });
  await areaHeading.click();
  await page.waitForFunction("document.querySelector('#slides th[aria-sort]') !== null");
  await page.waitForTimeout(50);
  const descending = await column(3);
  const numbers = descending.filter((v) => v !== '').map(Number);
  expect(numbers).toEqual([...numbers].sort((a, b) => b - a));
  expect(descending[descending.length - 1]).toBe('');
  await areaHeading.click();
  await page.waitForTimeout(50);
  const ascending = (await column(3)).filter((v) => v !== '').map(Number);
  expect(ascending).toEqual([...numbers].reverse());
  expect(await areaHeading.getAttribute('aria-sort')).toBe('ascending');
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
});

test('the page ran without script errors or broken links', () => {
  expect(problems).toEqual([]);
});
