/**
 * Broken model output is an error, not an empty result: the inference seam checks every call's
 * output (shape and finiteness). Before, a patch model answering NaN, or one row per batch, and a
 * refinement model answering NaN all "succeeded" with 0 tumour regions.
 */
import { ModelError } from '../../src/models/errors';
import { loadModelSet } from '../../src/models/model-set';
import { segmentSlide } from '../../src/pipeline/segment';
import { OpenSlide } from '../../src/slide/openslide';
import { runCli } from '../helpers/cli';
import { MODELS, SHAPES_TIFF } from '../helpers/paths';

async function segmentWith(dir: string): Promise<unknown> {
  const models = await loadModelSet(dir, { provider: 'cpu', threads: 1 });
  const slide = await OpenSlide.open(SHAPES_TIFF);
  try {
    return await segmentSlide(slide, models, {}).catch((e: unknown) => e);
  } finally {
    await slide.close();
    await models.release();
  }
}

test.each([
  [
    'nanPatch',
    /patchwise_mobilenet_network_breast_cancer\.onnx gave \d+ NaN or infinite values of 32 in output dense_1\/Softmax:0/,
  ],
  [
    'batchRow',
    /patchwise_mobilenet_network_breast_cancer\.onnx gave output dense_1\/Softmax:0 as float32 \[1,2\] for this call, expected float32 \[16,2\]/,
  ],
  [
    'nanRefinement',
    /refinement_network_breast_cancer\.onnx gave \d+ NaN or infinite values of 2097152 in output refinement\/Softmax:0/,
  ],
] as const)('%s: the job fails with MODEL_INVALID saying what the model gave', async (key, message) => {
  const err = await segmentWith(MODELS[key]);
  expect(err).toBeInstanceOf(ModelError);
  expect((err as ModelError).code).toBe('MODEL_INVALID');
  expect((err as Error).message).toMatch(message);
});

test('the oracle these are made from segments the slide (the faults, not the slide, fail them)', async () => {
  const result = (await segmentWith(MODELS.oracle)) as { summary: { polygonCount: number } };
  expect(result.summary.polygonCount).toBe(4);
});

test('h2g segment exits 1 with the model error', async () => {
  const r = await runCli(['segment', SHAPES_TIFF, '--models', MODELS.nanPatch, '-o', '/tmp/h2g-nan-never.geojson']);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/^h2g: error: .*NaN or infinite values/);
});
