/**
 * `h2g batch` end to end (the real CLI, real slides, real onnxruntime with the tiny test models): the
 * outputs, the table, the cache (re-run, changed parameter, damaged entry, duplicates, `segment
 * --cache`), failures recorded while the rest go on, interruption at any moment, bad output folders.
 */
import { spawn } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sha256File } from '../../src/models/digest';
import { VERSION } from '../../src/version';
import { smallSlides } from '../helpers/batch-slides';
import { batchArgs, entries, record, type Row, slideFile, table } from '../helpers/batch';
import { runCli } from '../helpers/cli';
import { H2G_BIN, MODELS, NO_MPP_TIFF, ROOT } from '../helpers/paths';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'h2g-batch-'));
const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'qupath-project', 'project.qpproj');

const byName = (rows: Row[]): Record<string, Row> => Object.fromEntries(rows.map((r) => [r.name, r]));

describe('a cohort with a duplicate, a corrupt slide, missing files and a slide without pixel size', () => {
  const out = path.join(tmp, 'out');
  const cache = path.join(tmp, 'cache');
  const folder = path.join(tmp, 'cohort');
  const [crop0, crop1] = smallSlides(2);
  const args = (...extra: string[]) => batchArgs([folder, FIXTURE, path.join(tmp, 'more.txt')], out, cache, ...extra);
  let first: Awaited<ReturnType<typeof runCli>>;

  beforeAll(async () => {
    mkdirSync(folder);
    copyFileSync(crop0!, path.join(folder, 'a.tif'));
    copyFileSync(crop0!, path.join(folder, 'a-again.tif')); // same content, another name
    copyFileSync(crop1!, path.join(folder, 'b.tif'));
    writeFileSync(path.join(tmp, 'more.txt'), `# two more\n${NO_MPP_TIFF}\nnot-there.svs\n`);
    first = await runCli(args());
  });

  test('exit 1, the rest segmented, each failure in the table and on stderr with its reason', () => {
    expect(first.code).toBe(1);
    const rows = byName(table(out));
    expect(Object.keys(rows)).toEqual([
      'a-again',
      'a',
      'b',
      'CMU-1-Small-Region',
      'broken',
      'no-such-slide',
      'no-mpp',
      'not-there',
    ]);
    expect(Object.values(rows).map((r) => r.status)).toEqual([
      'ok',
      'ok',
      'ok',
      'ok',
      'failed',
      'failed',
      'failed',
      'failed',
    ]);
    expect(rows.broken!.error).toMatch(/OpenSlide does not recognise .*broken\.svs/);
    expect(rows['no-such-slide']!.error).toMatch(
      /^file not found: .*no-such-slide\.svs \(listed in .*project\.qpproj\)$/,
    );
    expect(rows['no-mpp']!.error).toMatch(/has no pixel size; give it explicitly \(CLI: --mpp/);
    expect(rows['not-there']!.error).toBe(`file not found: ${path.join(tmp, 'not-there.svs')}`);
    for (const name of ['broken', 'no-mpp', 'not-there']) expect(first.stderr).toContain(`h2g: failed: ${name}: `);
    expect(first.stdout).toContain('this run: 4 segmented (1 from the cache, 3 computed), 4 failed, 0 not finished');
    expect(first.stdout).toContain(`table:  ${path.join(out, 'cohort.csv')}`);
  });

  test('figures in the table agree with each slide summary.json; failures have no figures', () => {
    for (const row of table(out)) {
      if (row.status !== 'ok') {
        expect([row.tumour_area_mm2, row.regions, row.cached]).toEqual(['', '', '']);
        continue;
      }
      const r = record(out, row.name!);
      expect(r.status).toBe('ok');
      expect(Number(row.tumour_area_mm2)).toBeCloseTo(r.result.figures.tumourAreaMm2, 4);
      expect(Number(row.tumour_share_of_tissue_pct)).toBeCloseTo(100 * r.result.figures.tumourShareOfTissue, 2);
      expect(Number(row.regions)).toBe(r.result.figures.polygonCount);
      expect(Number(row.tissue_area_mm2)).toBeGreaterThan(0);
      expect(row.slide_sha256).toBe(r.result.slide.sha256);
    }
  });

  test('per slide: GeoJSON, overlay, thumbnail, heatmap, mask and summary.json with provenance', async () => {
    const dir = path.join(out, 'slides', 'b');
    expect(readdirSync(dir).sort()).toEqual([
      'b.geojson',
      'heatmap.npy',
      'mask.png',
      'overlay.png',
      'summary.json',
      'thumbnail.png',
    ]);
    const r = record(out, 'b');
    expect(r.slide).toBe(path.join(folder, 'b.tif'));
    expect(r.result.provenance.keyInputs.models.patchSha256).toBe(
      await sha256File(path.join(MODELS.tiny, 'patchwise_mobilenet_network_breast_cancer.onnx')),
    );
    expect(r.result.provenance.keyInputs.pipeline.version).toBe(VERSION);
    expect(r.result.provenance.keyInputs.options).toEqual({
      mpp: null,
      reference: 'fast',
      tissueThreshold: 0.5,
      smoothingUm: 0,
      roi: null,
    });
    expect(r.result.slide.sha256).toBe(await sha256File(crop1!));
    expect(r.result.figures.patchesTotal).toBe(9); // 1536 px at 0.5 um/px = 768 px at 10x: 3 x 3 patches
    expect(r.result.figures.patchesInferred).toBeGreaterThan(0);
    expect(JSON.parse(readFileSync(path.join(dir, 'b.geojson'), 'utf8')).type).toBe('FeatureCollection');
  });

  test('the batch GeoJSON is what `h2g segment` writes for the same slide', async () => {
    const single = path.join(tmp, 'single-b.geojson');
    const r = await runCli(['segment', path.join(folder, 'b.tif'), '--models', MODELS.tiny, '-o', single]);
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(slideFile(out, 'b', 'b.geojson'), 'utf8'))).toEqual(
      JSON.parse(readFileSync(single, 'utf8')),
    );
  });

  test('the duplicate was computed once: one cache entry, the same files, marked in the table', () => {
    const rows = byName(table(out));
    expect(rows.a!.same_as).toBe('a-again');
    expect(rows.a!.cached).toBe('yes');
    expect(rows.a!.slide_sha256).toBe(rows['a-again']!.slide_sha256);
    expect(entries(cache)).toHaveLength(3); // a/a-again, b, CMU
    expect(statSync(slideFile(out, 'a', 'a.geojson')).ino).toBe(
      statSync(slideFile(out, 'a-again', 'a-again.geojson')).ino,
    );
  });

  test('a re-run reuses every result; a changed parameter re-runs all; a damaged entry is redone', async () => {
    const again = await runCli(args());
    expect(again.code).toBe(1);
    expect(again.stdout).toContain('this run: 4 segmented (4 from the cache, 0 computed), 4 failed');
    expect(
      table(out)
        .filter((r) => r.status === 'ok')
        .every((r) => r.cached === 'yes'),
    ).toBe(true);

    const changed = await runCli(args('--tissue-threshold', '0.6'));
    expect(changed.stdout).toContain('this run: 4 segmented (1 from the cache, 3 computed)');
    expect(entries(cache)).toHaveLength(6);
    expect(record(out, 'b').result.provenance.keyInputs.options.tissueThreshold).toBe(0.6);

    const entryOfB = record(out, 'b').result.provenance.cacheKey as string;
    const overlay = path.join(cache, 'entries', entryOfB.slice(0, 2), entryOfB, 'overlay.png');
    const bytes = readFileSync(overlay);
    bytes[100] = bytes[100]! ^ 0xff;
    writeFileSync(overlay, bytes);
    const repaired = await runCli(args('--tissue-threshold', '0.6'), { H2G_LOG_LEVEL: 'warn' });
    expect(repaired.stdout).toContain('this run: 4 segmented (3 from the cache, 1 computed)');
    const warning = repaired.stderr
      .split('\n')
      .filter((l) => l.includes('damaged cache entry'))
      .map((l) => JSON.parse(l));
    expect(warning).toEqual([
      expect.objectContaining({ slide: 'b', key: entryOfB, reason: 'overlay.png does not match its SHA-256' }),
    ]);
  });

  test('`h2g segment --cache` reuses a batch result, and a batch reuses what segment --cache stored', async () => {
    const geojson = path.join(tmp, 'from-cache.geojson');
    const heatmap = path.join(tmp, 'from-cache.npy');
    const r = await runCli([
      'segment',
      path.join(folder, 'b.tif'),
      '--models',
      MODELS.tiny,
      '--cache',
      cache,
      '--tissue-threshold',
      '0.6', // what the batch last ran with
      '-o',
      geojson,
      '--save-heatmap',
      heatmap,
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('result:           from the result cache');
    expect(readFileSync(geojson, 'utf8')).toBe(readFileSync(slideFile(out, 'b', 'b.geojson'), 'utf8'));
    expect(readFileSync(heatmap).equals(readFileSync(slideFile(out, 'b', 'heatmap.npy')))).toBe(true);

    const [, , crop2] = smallSlides(3);
    const fresh = await runCli([
      'segment',
      crop2!,
      '--models',
      MODELS.tiny,
      '--cache',
      cache,
      '-o',
      path.join(tmp, 'c.geojson'),
    ]);
    expect(fresh.stdout).not.toContain('from the result cache');
    const batch = await runCli(batchArgs([crop2!], path.join(tmp, 'out-c'), cache));
    expect(batch.code).toBe(0);
    expect(batch.stdout).toContain('this run: 1 segmented (1 from the cache, 0 computed)');
  });
});

describe('progress', () => {
  test('on a terminal: bars over slides and patches with an ETA', async () => {
    const [, , , crop3] = smallSlides(4);
    const cmd = [process.execPath, H2G_BIN, ...batchArgs([crop3!], path.join(tmp, 'tty'), path.join(tmp, 'tty-cache'))];
    const quoted = cmd.map((a) => `'${a}'`).join(' ');
    const r = await run('script', ['-qfec', quoted, '/dev/null']);
    expect(r.code).toBe(0);
    expect(r.output).toMatch(/slides +\[[^\]]*\] 1\/1 \| ETA/);
    expect(r.output).toMatch(/patches \[[^\]]*\] \d+\/\d+ \| ETA/);
    expect(r.output).not.toContain('"level"');
  });

  test('otherwise: pino lines, one per slide, with the cohort ETA', async () => {
    const [, , , crop3] = smallSlides(4);
    const r = await runCli(batchArgs([crop3!], path.join(tmp, 'log'), path.join(tmp, 'tty-cache')), {
      H2G_LOG_LEVEL: 'info',
    });
    const lines = r.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.find((l) => l.msg === 'slide finished')).toMatchObject({
      slide: 'cmu-crop-3',
      status: 'ok',
      cached: true,
      done: 1,
      total: 1,
    });
  });
});

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: { ...process.env, H2G_LOG_LEVEL: 'warn', ...env } });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

describe('interrupted at any moment', () => {
  const slides = smallSlides(7).slice(4); // three slides no other test computes
  const args = (out: string, cache: string) => [H2G_BIN, ...batchArgs(slides, out, cache)];

  /** Starts a batch and sends `signal` as soon as the first slide's record is there. */
  async function interrupt(out: string, cache: string, signal: NodeJS.Signals): Promise<number | null> {
    const child = spawn(process.execPath, args(out, cache), {
      env: { ...process.env, H2G_LOG_LEVEL: 'warn' },
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code, sig) => resolve(code ?? (sig ? null : 1))),
    );
    const first = path.join(out, 'slides', 'cmu-crop-4', 'summary.json');
    while (!existsSync(first)) await new Promise((r) => setTimeout(r, 20));
    child.kill(signal);
    return exited;
  }

  test('SIGKILL: nothing half-written; the re-run redoes only what was unfinished', async () => {
    const out = path.join(tmp, 'killed');
    const cache = path.join(tmp, 'killed-cache');
    expect(await interrupt(out, cache, 'SIGKILL')).toBeNull();
    const left = readdirSync(out, { recursive: true }) as string[];
    expect(left.filter((f) => /\.tmp$|\.\d+$/.test(f))).toEqual([]);
    for (const f of left.filter((f) => f.endsWith('.json')))
      expect(() => JSON.parse(readFileSync(path.join(out, f), 'utf8'))).not.toThrow();
    const r = await runCli(args(out, cache).slice(1));
    expect(r.code).toBe(0);
    const done = Number(/\((\d+) from the cache/.exec(r.stdout)![1]);
    expect(done).toBeGreaterThanOrEqual(1); // cmu-crop-4 at least, maybe a second one finished before the kill
    expect(r.stdout).toContain(`this run: 3 segmented (${done} from the cache, ${3 - done} computed), 0 failed`);
    expect(table(out).map((row) => row.status)).toEqual(['ok', 'ok', 'ok']);
    expect(readdirSync(path.join(cache, 'tmp'))).toEqual([]);
  });

  test('SIGTERM: exit 143, the table shows what is done and what is pending', async () => {
    const out = path.join(tmp, 'termed');
    expect(await interrupt(out, path.join(tmp, 'termed-cache'), 'SIGTERM')).toBe(143);
    const statuses = table(out).map((row) => row.status);
    expect(statuses[0]).toBe('ok');
    expect(statuses).toContain('pending');
    expect(readFileSync(path.join(out, 'report.html'), 'utf8')).toContain('pending');
  });
});

describe('output directories that cannot be written', () => {
  const [crop0] = smallSlides(1);

  test('a path through a regular file: exit 1 with the reason, no cache touched', async () => {
    const file = path.join(tmp, 'plain-file');
    writeFileSync(file, 'not a folder');
    const cache = path.join(tmp, 'untouched-cache');
    const r = await runCli(batchArgs([crop0!], path.join(file, 'out'), cache));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `h2g: error: cannot write to the output directory ${path.join(file, 'out')}: ENOTDIR: not a directory, mkdir '${path.join(file, 'out')}'\n`,
    );
    expect(existsSync(cache)).toBe(false);
  });

  test('a folder without write permission (run as an unprivileged user when root)', async () => {
    const locked = path.join(tmp, 'locked');
    mkdirSync(locked);
    chmodSync(locked, 0o555);
    const cache = mkdtempSync(path.join(os.tmpdir(), 'h2g-nobody-'));
    chmodSync(cache, 0o777);
    const cli = [H2G_BIN, ...batchArgs([crop0!], locked, cache)];
    const asUser =
      process.getuid?.() === 0
        ? ['setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, ...cli]]
        : [process.execPath, cli];
    const r = await run(asUser[0] as string, asUser[1] as string[]);
    expect(r.code).toBe(1);
    expect(r.output).toContain(`h2g: error: cannot write to the output directory ${locked}: EACCES`);
    expect(readdirSync(locked)).toEqual([]);
  });
});

describe('bad inputs stop before any work', () => {
  test('a .qpproj that is not a project: exit 2 and what a project is', async () => {
    const bad = path.join(tmp, 'fake.qpproj');
    writeFileSync(bad, '{"hello": "world"}');
    const r = await runCli([
      'batch',
      bad,
      '--out-dir',
      path.join(tmp, 'never'),
      '--models',
      MODELS.tiny,
      '--cache',
      path.join(tmp, 'c2'),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `h2g: error: ${bad} is not a QuPath project (a project.qpproj has "version" and an "images" list; QuPath writes it)\n`,
    );
    expect(existsSync(path.join(tmp, 'never', 'cohort.csv'))).toBe(false);
  });

  test('no inputs, or --cohort without --shard: usage errors', async () => {
    expect((await runCli(['batch', '--out-dir', tmp])).stderr).toBe(
      'h2g: error: give at least one slide, folder, list or .qpproj\n',
    );
    const r = await runCli(['batch', '--out-dir', tmp, '--cohort', 'x.json']);
    expect([r.code, r.stderr]).toEqual([2, 'h2g: error: --cohort and --shard go together\n']);
  });
});

describe('a broken model stops the cohort, wherever it breaks', () => {
  // nan-patch fails in the patch stage of the first slide; nan-refinement in its last stages, while
  // the next slide's patches already run beside them. Either way: the model named, every slide pending.
  test.each([
    ['nanPatch', 'patchwise_mobilenet_network_breast_cancer.onnx'],
    ['nanRefinement', 'refinement_network_breast_cancer.onnx'],
  ] as const)('%s: exit 1, the broken file named, nothing recorded, every slide pending', async (variant, file) => {
    const out = path.join(tmp, `broken-${variant}`);
    const slides = smallSlides(3);
    const r = await runCli([
      'batch',
      ...slides,
      '--out-dir',
      out,
      '--cache',
      path.join(tmp, `broken-cache-${variant}`),
      '--models',
      MODELS[variant],
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`h2g: error: ${path.join(MODELS[variant], file)} gave `);
    expect(r.stderr).toContain('NaN or infinite values');
    expect(table(out).map((row) => row.status)).toEqual(['pending', 'pending', 'pending']);
    expect(existsSync(path.join(out, 'slides'))).toBe(false);
  });
});
