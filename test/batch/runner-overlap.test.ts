/**
 * The batch keeps the patch model busy: the next slide's patches start while the slide before is
 * still being finished (refinement, polygons, files). Real slides, real onnxruntime sessions, the
 * real result cache; the only addition is a gate on the cache's `store`, which holds the first slide's
 * last step until the second slide has started its patch stage. A runner that finished each slide
 * before starting the next would never start it: the gate then opens after its timeout and the test
 * fails on what it records.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openBatchContext } from '../../src/batch/run-batch';
import { runSlides } from '../../src/batch/runner';
import type { BatchProgress } from '../../src/batch/progress';
import { expandInputs } from '../../src/batch/inputs';
import { createLogger } from '../../src/log';
import { loadModelSet } from '../../src/models/model-set';
import { type PipelineSettings, sessionOptions } from '../../src/pipeline/settings';
import { smallSlides } from '../helpers/batch-slides';
import { MODELS } from '../helpers/paths';

const GATE_TIMEOUT_MS = 30_000;

test('the second slide starts its patches while the first is still being stored', async () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'h2g-overlap-'));
  const outDir = path.join(tmp, 'out');
  const settings: PipelineSettings = { provider: 'cpu', threads: 1, limits: {}, models: MODELS.tiny };
  const {
    cache,
    models,
    settings: cohort,
  } = await openBatchContext({
    outDir,
    cacheDir: path.join(tmp, 'cache'),
    modelDirectory: MODELS.tiny,
    settings,
  });
  const slides = await expandInputs(smallSlides(2));
  const [first, second] = slides.map((s) => s.name);

  const events: string[] = [];
  let secondStarted!: () => void;
  const started = new Promise<void>((resolve) => (secondStarted = resolve));
  const store = cache.store.bind(cache);
  let held = false; // only the first store waits
  cache.store = async (...args: Parameters<typeof cache.store>) => {
    if (!held) {
      held = true;
      events.push('store waits');
      let timer: NodeJS.Timeout | undefined;
      const opened = await Promise.race([
        started.then(() => 'second slide started'),
        new Promise<string>((resolve) => (timer = setTimeout(() => resolve('timed out'), GATE_TIMEOUT_MS))),
      ]);
      clearTimeout(timer);
      events.push(`store resumes: ${opened}`);
    }
    return store(...args);
  };
  const progress: BatchProgress = {
    begin: () => undefined,
    slideStarted: (name) => {
      events.push(`started ${name}`);
      if (name === second) secondStarted();
    },
    pipeline: () => undefined,
    slideDone: (o) => events.push(`done ${o.name} ${o.status}`),
    end: () => undefined,
  };

  const counts = await runSlides(slides, {
    outDir,
    cache,
    models,
    loadModels: () => loadModelSet(models.directory, sessionOptions(settings)),
    options: cohort.options,
    settings: cohort.run,
    settingsId: 'overlap-test',
    progress,
    log: createLogger('silent'),
  });

  // Whether the first slide reaches its store before or after the second one starts is a race; that
  // the second starts while the first's store is held is not.
  expect(events.filter((e) => e !== 'store waits')).toEqual([
    `started ${first}`,
    `started ${second}`,
    'store resumes: second slide started',
    `done ${first} ok`,
    `done ${second} ok`,
  ]);
  expect(events).toContain('store waits');
  expect(counts).toMatchObject({ ok: 2, computed: 2, failed: 0, pending: 0 });
  for (const name of [first, second]) {
    const summary = JSON.parse(readFileSync(path.join(outDir, 'slides', name!, 'summary.json'), 'utf8'));
    expect(summary.status).toBe('ok');
    expect(summary.result.figures.patchesInferred).toBeGreaterThan(0);
  }
  rmSync(tmp, { recursive: true, force: true });
}, 120_000);
