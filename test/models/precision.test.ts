/**
 * --precision: from the chosen set to its sibling of the other arithmetic, found by the digests an
 * int8 set records (manifests only: which files they name is what matters here, not loading them).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { withPrecision } from '../../src/models/precision';
import { PATCH, REFINEMENT, tempDir } from './helpers';

let home: string;
let env: NodeJS.ProcessEnv;
beforeEach(() => {
  home = tempDir('precision');
  env = { H2G_MODELS_HOME: home };
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

const digest = (c: string): string => c.repeat(64);
const entry = (file: string, sha: string) => ({ file, sha256: sha, size: 1 });

function install(
  name: string,
  files: { patch: string; refinement: string },
  from?: { set: string; patch: string; refinement: string },
): string {
  const dir = path.join(home, name);
  mkdirSync(dir, { recursive: true });
  const manifest = {
    schemaVersion: 1,
    name,
    files: { patch: entry(PATCH, files.patch), refinement: entry(REFINEMENT, files.refinement) },
    ...(from
      ? {
          precision: 'int8',
          quantization: {
            quantizedFrom: { set: from.set, patchSha256: from.patch, refinementSha256: from.refinement },
            method: 'static QDQ',
            tool: 'onnxruntime 1.30.0',
            calibration: { patches: 10, slides: [{ file: 'c.tif', sha256: digest('c'), patches: 10 }] },
          },
        }
      : {}),
  };
  writeFileSync(path.join(dir, 'h2g-models.json'), JSON.stringify(manifest));
  return dir;
}

const published = { patch: digest('1'), refinement: digest('2') };
const fromPublished = { set: 'published', ...published };

test('no precision, or the set has it already: the set itself', async () => {
  const dir = install('published', published);
  expect(await withPrecision(dir, undefined, env)).toBe(dir);
  expect(await withPrecision(dir, 'float32', env)).toBe(dir);
  const int8 = install('published-int8', { patch: digest('3'), refinement: published.refinement }, fromPublished);
  expect(await withPrecision(int8, 'int8', env)).toBe(int8);
});

test('int8: the set quantized from these files, <name>-int8 first among several', async () => {
  const dir = install('published', published);
  install('calibrated-elsewhere', { patch: digest('4'), refinement: published.refinement }, fromPublished);
  expect(await withPrecision(dir, 'int8', env)).toBe(path.join(home, 'calibrated-elsewhere'));
  install('published-int8', { patch: digest('3'), refinement: published.refinement }, fromPublished);
  expect(await withPrecision(dir, 'int8', env)).toBe(path.join(home, 'published-int8'));
});

test('int8: several matches without the conventional name, or none, are errors that say what to do', async () => {
  const dir = install('published', published);
  await expect(withPrecision(dir, 'int8', env)).rejects.toThrow(
    /no int8 model set made from 'published' is installed .*h2g models quantize published --calibrate/,
  );
  // made from a different refinement network (or an older patch model): not this set's sibling
  install('stale', { patch: digest('5'), refinement: digest('6') }, { ...fromPublished, refinement: digest('6') });
  await expect(withPrecision(dir, 'int8', env)).rejects.toThrow(/no int8 model set made from 'published'/);
  install('a', { patch: digest('7'), refinement: published.refinement }, fromPublished);
  install('b', { patch: digest('8'), refinement: published.refinement }, fromPublished);
  await expect(withPrecision(dir, 'int8', env)).rejects.toThrow(/several installed sets .*\(a, b\).*--models/);
});

test('float32 from an int8 set: its source by digest, even renamed; the recorded name first', async () => {
  const int8 = install('published-int8', { patch: digest('3'), refinement: published.refinement }, fromPublished);
  await expect(withPrecision(int8, 'float32', env)).rejects.toThrow(/'published'.* is not installed/);
  install('renamed', published);
  expect(await withPrecision(int8, 'float32', env)).toBe(path.join(home, 'renamed'));
  install('published', published);
  expect(await withPrecision(int8, 'float32', env)).toBe(path.join(home, 'published'));
});

test('a hand-made directory without a manifest is identified by its files', async () => {
  const dir = tempDir('handmade');
  try {
    writeFileSync(path.join(dir, PATCH), 'patch bytes');
    writeFileSync(path.join(dir, REFINEMENT), 'refinement bytes');
    const sha = (s: string) => createHash('sha256').update(s).digest('hex');
    install(
      'handmade-int8',
      { patch: digest('9'), refinement: sha('refinement bytes') },
      {
        set: path.basename(dir),
        patch: sha('patch bytes'),
        refinement: sha('refinement bytes'),
      },
    );
    expect(await withPrecision(dir, 'int8', env)).toBe(path.join(home, 'handmade-int8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the manifest ties precision and quantization record together', async () => {
  const dir = install('odd', published);
  writeFileSync(
    path.join(dir, 'h2g-models.json'),
    JSON.stringify({
      schemaVersion: 1,
      precision: 'int8',
      files: { patch: entry(PATCH, digest('1')), refinement: entry(REFINEMENT, digest('2')) },
    }),
  );
  await expect(withPrecision(dir, 'float32', env)).rejects.toThrow(
    /quantization: an int8 set records its quantization/,
  );
});
