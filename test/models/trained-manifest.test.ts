/** A trained set's manifest (train/ writes it): its source and training record survive `import`. */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { importModels } from '../../src/models/import';
import { MANIFEST_FILE } from '../../src/models/manifest';
import { makeModels, PATCH, REFINEMENT, tempDir } from './helpers';

const training = {
  dataset: 'cohort-a',
  datasetSha256: 'a'.repeat(64),
  trainer: 'h2g-train 0.1.0',
  createdAt: '2026-12-01T12:00:00Z',
  parameters: { width: 1, lr: 0.0001 },
  splits: { train: 8, val: 1, test: 1 },
  results: { patch: { val_auc: 0.97 } },
};

function trainedSet(extra: Record<string, unknown> = {}): string {
  const src = makeModels('tiny');
  const files = Object.fromEntries(
    (
      [
        ['patch', PATCH],
        ['refinement', REFINEMENT],
      ] as const
    ).map(([k, f]) => [k, { file: f }]),
  );
  const manifest = { schemaVersion: 1, name: 'cohort-a', source: 'trained:cohort-a', files, training, ...extra };
  writeFileSync(path.join(src, MANIFEST_FILE), JSON.stringify(manifest));
  return src;
}

test('import keeps trained:<dataset> and the training record, and records the digests', async () => {
  const home = tempDir('home');
  const r = await importModels([trainedSet()], { home, name: 'mine' });
  const installed = JSON.parse(readFileSync(path.join(r.directory, MANIFEST_FILE), 'utf8'));
  expect(installed.source).toBe('trained:cohort-a');
  expect(installed.training).toEqual(training);
  expect(installed.files.patch.sha256).toMatch(/^[0-9a-f]{64}$/);
});

test('a set without a training record is still an import', async () => {
  const r = await importModels([makeModels('tiny')], { home: tempDir('home'), name: 'plain' });
  expect(r.manifest.source).toMatch(/^import:/);
  expect(r.manifest.training).toBeUndefined();
});

test.each([
  ['a digest that is not hex', { training: { ...training, datasetSha256: 'xyz' } }, /datasetSha256/],
  ['an unknown training key', { training: { ...training, epochz: 3 } }, /training.*epochz/],
])('%s is refused before anything is installed', async (_what, extra, message) => {
  const home = tempDir('home');
  await expect(importModels([trainedSet(extra)], { home, name: 'bad' })).rejects.toThrow(message);
});
