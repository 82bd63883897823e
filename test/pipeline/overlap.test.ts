/**
 * Issue 17, no fixed overhead on small slides: with segmentWhileLoading the tissue mask and the patch
 * plan are computed while the model set is still loading, and the result is segmentSlide's. Each test
 * hands over a model promise the test itself controls, so a pipeline that waited for the models
 * before planning would hang (and time out) or show the wrong order.
 */
import { type ModelSet, loadModelSet, readModelSetManifest } from '../../src/models/model-set';
import { ModelError } from '../../src/models/errors';
import { LimitError } from '../../src/pipeline/errors';
import { resolveLimits } from '../../src/pipeline/limits';
import { segmentSlide, segmentWhileLoading } from '../../src/pipeline/segment';
import type { ProgressEvent } from '../../src/pipeline/types';
import { OpenSlide } from '../../src/slide/openslide';
import { MODELS, NO_MPP_TIFF, SHAPES_TIFF } from '../helpers/paths';

let models: ModelSet;
let slide: OpenSlide;
beforeAll(async () => {
  models = await loadModelSet(MODELS.oracle, { provider: 'cpu', threads: 1 });
  slide = await OpenSlide.open(SHAPES_TIFF);
});
afterAll(async () => {
  await models?.release();
  await slide?.close();
});

const never = new Promise<ModelSet>(() => undefined);

test('the tissue stage runs before the models are there; the result is segmentSlide’s', async () => {
  const { manifest } = await readModelSetManifest(MODELS.oracle);
  const order: string[] = [];
  let resolve!: (m: ModelSet) => void;
  const pending = new Promise<ModelSet>((r) => (resolve = r));
  let given = false;
  const give = (label: string) => {
    if (given) return;
    given = true;
    order.push(label);
    resolve(models);
  };
  // A pipeline that waits for the models before planning gets them from this timer, after the fact.
  const timer = setTimeout(() => give('models (timer)'), 20_000);
  timer.unref();
  const onProgress = (e: ProgressEvent) => {
    if (order.at(-1) === e.stage) return;
    order.push(e.stage);
    if (e.stage === 'tissue') setImmediate(() => give('models'));
  };
  const result = await segmentWhileLoading(slide, manifest.parameters, pending, {}, { onProgress });
  clearTimeout(timer);
  expect(order).toEqual(['tissue', 'models', 'patches', 'refinement', 'polygons', 'done']);
  const reference = await segmentSlide(slide, models, {});
  expect(result.geojsonText).toBe(reference.geojsonText);
  expect(Array.from(result.heatmap.values)).toEqual(Array.from(reference.heatmap.values));
  expect(result.summary.patchesInferred).toBeGreaterThan(0);
});

test('the whole tissue mask is computed without the models: its patch limit is refused while they never come', async () => {
  const { manifest } = await readModelSetManifest(MODELS.oracle);
  const err = await segmentWhileLoading(
    slide,
    manifest.parameters,
    never,
    {},
    {},
    resolveLimits({ maxPatches: 3 }),
  ).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(LimitError);
  expect((err as LimitError).limit).toBe('maxPatches');
});

test('a slide without a pixel size fails at once, not after a model load that never ends', async () => {
  const { manifest } = await readModelSetManifest(MODELS.oracle);
  const noMpp = await OpenSlide.open(NO_MPP_TIFF);
  try {
    await expect(segmentWhileLoading(noMpp, manifest.parameters, never, {})).rejects.toThrow(/no pixel size/);
  } finally {
    await noMpp.close();
  }
});

test('a model load that fails is the job’s error, after the plan', async () => {
  const { manifest } = await readModelSetManifest(MODELS.oracle);
  const failing = Promise.reject(new ModelError('MODEL_INVALID', 'onnxruntime cannot load it'));
  failing.catch(() => undefined);
  await expect(segmentWhileLoading(slide, manifest.parameters, failing, {})).rejects.toThrow(
    'onnxruntime cannot load it',
  );
});

test('a set whose parameters differ from the manifest the plan used is refused', async () => {
  const { manifest } = await readModelSetManifest(MODELS.oracle);
  const changed = { ...manifest.parameters, tumourChannel: 1 - manifest.parameters.tumourChannel };
  await expect(segmentWhileLoading(slide, changed, Promise.resolve(models), {})).rejects.toThrow(
    /changed while it was loading/,
  );
});
