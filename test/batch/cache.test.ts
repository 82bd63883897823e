/** The result cache: keys, whole-or-absent entries, damage detection, the digest memo. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { ARTIFACT_FILES, type Artifacts } from '../../src/batch/artifacts';
import { ResultCache } from '../../src/batch/cache';
import { DigestMemo } from '../../src/batch/digest';
import { type ModelIdentity, resultKey, resultOptions } from '../../src/batch/identity';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'h2g-cache-'));

function artifacts(tag: string): Artifacts {
  const a = {} as Artifacts;
  for (const name of Object.keys(ARTIFACT_FILES) as (keyof Artifacts)[]) {
    a[name] = Buffer.from(name === 'summary' ? JSON.stringify({ tag }) : `${name} of ${tag} `.repeat(50));
  }
  return a;
}

const models: ModelIdentity = {
  directory: '/models',
  patchSha256: 'a'.repeat(64),
  refinementSha256: 'b'.repeat(64),
  parameters: { patchSize: 256, patchMpp: 1, refinementSize: 1024, tumourChannel: 1 },
};

describe('cache keys', () => {
  const base = resultKey('c'.repeat(64), models, resultOptions({})).key;

  test('every input that decides a result changes the key', () => {
    const square = {
      type: 'Polygon' as const,
      coordinates: [
        [
          [0, 0],
          [9, 0],
          [9, 9],
          [0, 0],
        ],
      ],
    };
    const variants = [
      resultKey('d'.repeat(64), models, resultOptions({})),
      resultKey('c'.repeat(64), { ...models, patchSha256: 'e'.repeat(64) }, resultOptions({})),
      resultKey('c'.repeat(64), { ...models, refinementSha256: 'e'.repeat(64) }, resultOptions({})),
      resultKey(
        'c'.repeat(64),
        { ...models, parameters: { ...models.parameters, tumourChannel: 0 } },
        resultOptions({}),
      ),
      resultKey('c'.repeat(64), models, resultOptions({ tissueThreshold: 0.6 })),
      resultKey('c'.repeat(64), models, resultOptions({ smoothingUm: 50 })),
      resultKey('c'.repeat(64), models, resultOptions({ mpp: 0.25 })),
      resultKey('c'.repeat(64), models, resultOptions({ roi: square })),
    ].map((k) => k.key);
    expect(new Set([base, ...variants]).size).toBe(variants.length + 1);
  });

  test('defaults spelled out give the same key; the directory of the models does not matter', () => {
    expect(resultKey('c'.repeat(64), models, resultOptions({ tissueThreshold: 0.5, smoothingUm: 0 })).key).toBe(base);
    expect(resultKey('c'.repeat(64), { ...models, directory: '/elsewhere' }, resultOptions({})).key).toBe(base);
  });
});

describe('entries', () => {
  let cache: ResultCache;
  beforeAll(async () => {
    cache = await ResultCache.open(path.join(tmp, 'cache'));
  });

  test('a stored entry is found with every file and its summary', async () => {
    const key = 'f0'.repeat(32);
    expect((await cache.lookup(key)).state).toBe('miss');
    const stored = await cache.store(key, artifacts('one'));
    const found = await cache.lookup(key);
    expect(found.state).toBe('hit');
    if (found.state !== 'hit') return;
    expect(found.entry.dir).toBe(stored.dir);
    expect(found.entry.summary).toEqual({ tag: 'one' });
    expect(readFileSync(found.entry.files.overlay, 'utf8')).toBe('overlay of one '.repeat(50));
    expect(readdirSync(path.join(cache.dir, 'tmp'))).toEqual([]);
  });

  test.each([
    ['a flipped byte', (dir: string) => flip(path.join(dir, 'overlay.png')), 'overlay.png does not match its SHA-256'],
    [
      'a truncated file',
      (dir: string) => writeFileSync(path.join(dir, 'heatmap.npy'), 'x'),
      'heatmap.npy has 1 bytes, not 650',
    ],
    ['a deleted file', (dir: string) => execFileSync('rm', [path.join(dir, 'mask.png')]), 'mask.png is missing'],
    [
      'an edited entry.json',
      (dir: string) => {
        const e = JSON.parse(readFileSync(path.join(dir, 'entry.json'), 'utf8'));
        e.files.geojson.size += 1;
        writeFileSync(path.join(dir, 'entry.json'), JSON.stringify(e));
      },
      'entry.json does not match its checksum',
    ],
    [
      'a torn entry.json',
      (dir: string) => writeFileSync(path.join(dir, 'entry.json'), '{"format":1,'),
      'entry.json is not valid JSON',
    ],
  ])('%s is detected, the entry removed, and the key misses after', async (_what, damage, reason) => {
    const key = createHash('sha256').update(reason).digest('hex');
    const { dir } = await cache.store(key, artifacts('x'));
    damage(dir);
    expect(await cache.lookup(key)).toEqual({ state: 'damaged', reason });
    expect(statSync(dir, { throwIfNoEntry: false })).toBeUndefined();
    expect((await cache.lookup(key)).state).toBe('miss');
  });

  test('the "sizes" check stats only: a same-size change passes it and fails the full check', async () => {
    const key = 'e1'.repeat(32);
    const { dir } = await cache.store(key, artifacts('sizes'));
    flip(path.join(dir, 'thumbnail.png'));
    expect((await cache.lookup(key, 'sizes')).state).toBe('hit');
    expect((await cache.lookup(key, 'full')).state).toBe('damaged');
  });

  test('two stores of one key at once leave one whole entry', async () => {
    const key = 'd2'.repeat(32);
    const [a, b] = await Promise.all([cache.store(key, artifacts('a')), cache.store(key, artifacts('b'))]);
    expect(a.dir).toBe(b.dir);
    expect(readdirSync(path.dirname(a.dir)).filter((n) => n === key)).toHaveLength(1);
    const found = await cache.lookup(key);
    expect(found.state === 'hit' && ['a', 'b'].includes((found.entry.summary as unknown as { tag: string }).tag)).toBe(
      true,
    );
    expect(readdirSync(path.join(cache.dir, 'tmp'))).toEqual([]);
  });

  test("opening removes this host's temporary directories of dead processes, keeps live ones", async () => {
    const dead = path.join(cache.dir, 'tmp', `${os.hostname()}.999999999.abc`);
    const live = path.join(cache.dir, 'tmp', `${os.hostname()}.${process.pid}.abc`);
    mkdirSync(dead);
    mkdirSync(live);
    await ResultCache.open(cache.dir);
    expect(readdirSync(path.join(cache.dir, 'tmp')).sort()).toEqual([path.basename(live)]);
  });

  test('a cache that cannot be written is refused at once with the reason', async () => {
    const file = path.join(tmp, 'a-file');
    writeFileSync(file, '');
    await expect(ResultCache.open(path.join(file, 'cache'))).rejects.toThrow(
      `cannot use the result cache ${path.join(file, 'cache')}: ENOTDIR`,
    );
  });
});

function flip(file: string): void {
  const data = readFileSync(file);
  data[10] = data[10]! ^ 0xff;
  writeFileSync(file, data);
}

describe('the digest memo', () => {
  const memoDir = path.join(tmp, 'digests');
  const file = path.join(tmp, 'slide.svs');
  const sha = (data: string) => createHash('sha256').update(data).digest('hex');

  test('a digest is remembered, and a rewrite of the same size and time is still noticed (change time)', async () => {
    writeFileSync(file, 'first content');
    const memo = new DigestMemo(memoDir);
    expect((await memo.file(file)).sha256).toBe(sha('first content'));
    const before = statSync(file);
    writeFileSync(file, 'other content');
    utimesSync(file, before.atime, before.mtime); // same size and mtime; ctime moves on
    expect((await memo.file(file)).sha256).toBe(sha('other content'));
    expect(await memo.knownSlide(file)).toBe(sha('other content'));
  });

  test('the remembered digest is what a lookup returns (no hashing), unless rehash is asked', async () => {
    writeFileSync(file, 'content');
    const memo = new DigestMemo(memoDir);
    await memo.file(file);
    const [record] = readdirSync(memoDir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && JSON.parse(readFileSync(path.join(e.parentPath, e.name), 'utf8')).path === file)
      .map((e) => path.join(e.parentPath, e.name));
    const planted = { ...JSON.parse(readFileSync(record!, 'utf8')), sha256: '9'.repeat(64) };
    writeFileSync(record!, JSON.stringify(planted));
    expect((await memo.file(file)).sha256).toBe('9'.repeat(64));
    expect((await new DigestMemo(memoDir, true).file(file)).sha256).toBe(sha('content'));
  });

  test('a MIRAX slide is digested with the files of its data folder', async () => {
    const mrxs = path.join(tmp, 'mirax', 'slide.mrxs');
    mkdirSync(path.join(tmp, 'mirax', 'slide'), { recursive: true });
    writeFileSync(mrxs, 'index');
    writeFileSync(path.join(tmp, 'mirax', 'slide', 'Data0000.dat'), 'pixels');
    const memo = new DigestMemo(null);
    const before = await memo.slide(mrxs);
    writeFileSync(path.join(tmp, 'mirax', 'slide', 'Data0000.dat'), 'PIXELS');
    const after = await memo.slide(mrxs);
    expect(before.size).toBe(11);
    expect(after.sha256).not.toBe(before.sha256);
  });
});
