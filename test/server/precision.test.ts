/**
 * Precision over gRPC: a request's `precision` (or the server's --precision) picks the named set's
 * int8 or float32 sibling, the result's metadata says which made it, and GetInfo lists it. The int8
 * set is made by `h2g models quantize` itself (tiny models, --force: random weights agree with
 * nothing, which the quantize tests cover).
 */
import { type ServiceError, status } from '@grpc/grpc-js';
import { rmSync } from 'node:fs';
import type { ServerInfo, SegmentationClient } from '../../src/generated/h2gnet/v1/segmentation';
import { ERROR_CODE_TRAILER } from '../../src/server/errors';
import { OpenSlide } from '../../src/slide/openslide';
import { runCli } from '../helpers/cli';
import { CMU_SMALL } from '../helpers/paths';
import { type ChildServer, spawnServer } from './child';
import { collect, resultOf, segment, segmentPixels, smallSlide, tempDir, testModels } from './helpers';

jest.setTimeout(600_000);

let home: string;
let slide: string;
let plain: ChildServer;
let int8Default: ChildServer;

beforeAll(async () => {
  home = tempDir('h2g-precision-home-');
  slide = smallSlide();
  const env = { H2G_MODELS_HOME: home };
  for (const [dir, name] of [
    [testModels('tiny'), 'tiny'],
    [testModels('oracle'), 'oracle'],
  ]) {
    expect((await runCli(['models', 'import', dir!, '--name', name!], env)).code).toBe(0);
  }
  const q = await runCli(
    ['models', 'quantize', 'tiny', '--calibrate', slide, '--validate', CMU_SMALL, '--patches', '16', '--force'],
    env,
  );
  expect(q.stderr).not.toMatch(/h2g: error/);
  expect(q.code).toBe(0);
  [plain, int8Default] = await Promise.all([
    spawnServer(['--models', 'tiny'], env),
    spawnServer(['--models', 'tiny', '--precision', 'int8'], env),
  ]);
});
afterAll(async () => {
  await Promise.all([plain?.stop(), int8Default?.stop()]);
  rmSync(home, { recursive: true, force: true });
});

async function metadataOf(client: SegmentationClient, extra: { modelSet?: string; precision?: string }) {
  const { events, error } = await collect(segment(client, slide, {}, extra));
  expect(error).toBeNull();
  return JSON.parse(resultOf(events)!.geojson).metadata as Record<string, string>;
}

test('a request picks the sibling of the set it names (or of the default) by precision', async () => {
  expect(await metadataOf(plain.client, {})).toMatchObject({
    'h2gnet.model_set': 'tiny',
    'h2gnet.precision': 'float32',
  });
  const int8 = await metadataOf(plain.client, { precision: 'int8' });
  expect(int8).toMatchObject({ 'h2gnet.model_set': 'tiny-int8', 'h2gnet.precision': 'int8' });
  expect(int8['h2gnet.quantized_from_sha256']).toMatch(/^[0-9a-f]{64}$/);
  expect(await metadataOf(plain.client, { modelSet: 'tiny-int8', precision: 'float32' })).toMatchObject({
    'h2gnet.model_set': 'tiny',
  });
  expect(await metadataOf(plain.client, { modelSet: 'tiny-int8' })).toMatchObject({ 'h2gnet.precision': 'int8' });
});

test('--precision int8 is the default for requests that name none; a request can still ask for float32', async () => {
  expect(await metadataOf(int8Default.client, {})).toMatchObject({ 'h2gnet.model_set': 'tiny-int8' });
  expect(await metadataOf(int8Default.client, { precision: 'float32' })).toMatchObject({
    'h2gnet.model_set': 'tiny',
    'h2gnet.precision': 'float32',
  });
});

test('SegmentPixels takes the precision in its start message', async () => {
  const source = await OpenSlide.open(slide);
  try {
    const { events, error } = await segmentPixels(plain.client, source, { precision: 'int8' }).done;
    expect(error).toBeNull();
    expect(JSON.parse(resultOf(events)!.geojson).metadata['h2gnet.precision']).toBe('int8');
  } finally {
    await source.close();
  }
});

test('an unknown precision is INVALID_ARGUMENT; no int8 sibling is FAILED_PRECONDITION saying what to run', async () => {
  const bad = await collect(segment(plain.client, slide, {}, { precision: 'int4' }));
  expect(bad.error).toMatchObject({
    code: status.INVALID_ARGUMENT,
    details: expect.stringMatching(/precision must be float32 or int8/),
  });
  const none = await collect(segment(plain.client, slide, {}, { modelSet: 'oracle', precision: 'int8' }));
  expect((none.error as ServiceError).code).toBe(status.FAILED_PRECONDITION);
  expect(none.error!.details).toContain('h2g models quantize oracle --calibrate');
  // The trailer tells clients (QuPath) it is the models, not the image, that are missing.
  expect(none.error!.metadata.get(ERROR_CODE_TRAILER)).toEqual(['MODEL_NOT_FOUND']);
});

test('GetInfo lists each loaded set with its precision', async () => {
  const info = await new Promise<ServerInfo>((resolve, reject) =>
    plain.client.getInfo({}, (err, res) => (err ? reject(err) : resolve(res))),
  );
  const byName = Object.fromEntries(info.modelSets.map((s) => [s.name, s.precision]));
  expect(byName).toMatchObject({ tiny: 'float32', 'tiny-int8': 'int8' });
});

test('a bad --precision flag is refused before anything listens', async () => {
  const r = await runCli(['serve', '--precision', 'fp16'], { H2G_MODELS_HOME: home });
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/--precision.*fp16.*float32, int8/);
});
