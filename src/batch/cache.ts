/**
 * The result cache: one directory per cache key (see cache-key.ts) holding a result's artifacts and
 * `entry.json`, which lists each file's size and SHA-256 and carries a checksum of itself. An entry
 * is written in a private temporary directory and renamed into place, so it is whole or absent, and
 * two processes storing the same key (a duplicate slide on two Slurm tasks) cannot mix their files:
 * the first rename wins. A lookup checks the files against the list; a damaged entry is removed and
 * reported, and the slide is segmented again.
 *
 * Layout: <dir>/entries/<key[0:2]>/<key>/, <dir>/digests/ (the file-digest memo), <dir>/tmp/.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { ARTIFACT_FILES, type ArtifactName, type Artifacts, type ResultSummary } from './artifacts';
import { CACHE_FORMAT, canonicalJson } from './cache-key';
import { pidAlive } from '../models/store';
import { DigestMemo } from './digest';

export interface CacheEntry {
  key: string;
  dir: string;
  /** Absolute path of each artifact. */
  files: Record<ArtifactName, string>;
  summary: ResultSummary;
}

export type Lookup = { state: 'hit'; entry: CacheEntry } | { state: 'miss' } | { state: 'damaged'; reason: string };

/** `full` re-hashes every file (a batch about to use the entry); `sizes` only stats them (a planner). */
export type Verification = 'full' | 'sizes';

const FileRecord = z.object({ file: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/), size: z.number() });
const EntryRecord = z.object({
  format: z.literal(CACHE_FORMAT),
  key: z.string(),
  createdAt: z.string(),
  files: z.record(z.string(), FileRecord),
  checksum: z.string(),
});
type EntryRecord = z.infer<typeof EntryRecord>;

const ENTRY_FILE = 'entry.json';
/** Temporary directories older than this are left over from a crash, whatever host made them. */
const STALE_TMP_MS = 24 * 3600 * 1000;

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

function entryChecksum(record: Omit<EntryRecord, 'checksum'>): string {
  return sha256(
    canonicalJson({ format: record.format, key: record.key, createdAt: record.createdAt, files: record.files }),
  );
}

export class CacheUnavailableError extends Error {
  override name = 'CacheUnavailableError';
}

export class ResultCache {
  readonly digests: DigestMemo;

  private constructor(
    readonly dir: string,
    rehash: boolean,
  ) {
    this.digests = new DigestMemo(path.join(dir, 'digests'), rehash);
  }

  /** Opens (creating) a cache directory; fails at once, with the reason, when it cannot be written. */
  static async open(dir: string, options: { rehash?: boolean } = {}): Promise<ResultCache> {
    const root = path.resolve(dir);
    try {
      for (const sub of ['entries', 'digests', 'tmp']) await mkdir(path.join(root, sub), { recursive: true });
      const probe = path.join(root, 'tmp', `probe.${os.hostname()}.${process.pid}`);
      await writeFile(probe, '');
      await rm(probe);
    } catch (err) {
      throw new CacheUnavailableError(`cannot use the result cache ${root}: ${(err as Error).message}`);
    }
    const cache = new ResultCache(root, options.rehash ?? false);
    await cache.removeStaleTemporaries();
    return cache;
  }

  entryDir(key: string): string {
    return path.join(this.dir, 'entries', key.slice(0, 2), key);
  }

  async lookup(key: string, verification: Verification = 'full'): Promise<Lookup> {
    const dir = this.entryDir(key);
    let text: string;
    try {
      text = await readFile(path.join(dir, ENTRY_FILE), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      // A directory without its entry.json is not an entry (cannot be made by store(); clear it).
      if (await stat(dir).catch(() => null)) return this.discard(key, 'entry.json is missing');
      return { state: 'miss' };
    }
    const problem = await this.check(dir, key, text, verification);
    if (typeof problem === 'string') return this.discard(key, problem);
    return { state: 'hit', entry: problem };
  }

  /** Stores a result under `key`; returns the entry (another process's, when it stored the key first). */
  async store(key: string, artifacts: Artifacts): Promise<CacheEntry> {
    const tmp = path.join(this.dir, 'tmp', `${os.hostname()}.${process.pid}.${randomBytes(6).toString('hex')}`);
    await mkdir(tmp, { recursive: true });
    try {
      const files: EntryRecord['files'] = {};
      for (const [name, file] of Object.entries(ARTIFACT_FILES) as [ArtifactName, string][]) {
        const data = artifacts[name];
        await writeFile(path.join(tmp, file), data);
        files[name] = { file, sha256: sha256(data), size: data.length };
      }
      const record = { format: CACHE_FORMAT, key, createdAt: new Date().toISOString(), files } as const;
      await writeFile(path.join(tmp, ENTRY_FILE), JSON.stringify({ ...record, checksum: entryChecksum(record) }));
      const dir = this.entryDir(key);
      await mkdir(path.dirname(dir), { recursive: true });
      try {
        await rename(tmp, dir);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
        // Stored meanwhile by another process: use theirs if whole, else replace it.
        const theirs = await this.lookup(key, 'full');
        if (theirs.state === 'hit') return theirs.entry;
        await rename(tmp, dir);
      }
      const stored = await this.lookup(key, 'sizes');
      if (stored.state !== 'hit') throw new Error(`the cache entry ${key} could not be read back after storing it`);
      return stored.entry;
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  private async check(
    dir: string,
    key: string,
    text: string,
    verification: Verification,
  ): Promise<CacheEntry | string> {
    let record: EntryRecord;
    try {
      const parsed = EntryRecord.safeParse(JSON.parse(text));
      if (!parsed.success) return 'entry.json does not describe an entry';
      record = parsed.data;
    } catch {
      return 'entry.json is not valid JSON';
    }
    if (record.checksum !== entryChecksum(record)) return 'entry.json does not match its checksum';
    if (record.key !== key) return `entry.json belongs to key ${record.key}`;
    const files = {} as Record<ArtifactName, string>;
    for (const [name, file] of Object.entries(ARTIFACT_FILES) as [ArtifactName, string][]) {
      const expected = record.files[name];
      if (!expected || expected.file !== file) return `entry.json does not list ${file}`;
      const full = path.join(dir, file);
      const st = await stat(full).catch(() => null);
      if (!st?.isFile()) return `${file} is missing`;
      if (st.size !== expected.size) return `${file} has ${st.size} bytes, not ${expected.size}`;
      if (verification === 'full' && sha256(await readFile(full)) !== expected.sha256) {
        return `${file} does not match its SHA-256`;
      }
      files[name] = full;
    }
    let summary: ResultSummary;
    try {
      summary = JSON.parse(await readFile(files.summary, 'utf8')) as ResultSummary;
    } catch {
      return 'summary.json is not valid JSON';
    }
    return { key, dir, files, summary };
  }

  /** Moves a damaged entry out of the way (atomically) and deletes it. */
  private async discard(key: string, reason: string): Promise<Lookup> {
    const trash = path.join(this.dir, 'tmp', `damaged.${key}.${randomBytes(4).toString('hex')}`);
    await rename(this.entryDir(key), trash).catch(() => undefined);
    await rm(trash, { recursive: true, force: true });
    return { state: 'damaged', reason };
  }

  private async removeStaleTemporaries(): Promise<void> {
    const tmpDir = path.join(this.dir, 'tmp');
    const host = os.hostname();
    for (const name of await readdir(tmpDir).catch(() => [] as string[])) {
      const full = path.join(tmpDir, name);
      const [h, pid] = name.split('.');
      const st = await stat(full).catch(() => null);
      if (!st) continue;
      const deadHere = h === host && pid !== undefined && /^\d+$/.test(pid) && !pidAlive(Number(pid));
      if (deadHere || Date.now() - st.mtimeMs > STALE_TMP_MS) await rm(full, { recursive: true, force: true });
    }
  }
}

/** `$H2G_CACHE`, else `$XDG_CACHE_HOME/h2gnet/results`, else `~/.cache/h2gnet/results`. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.H2G_CACHE) return path.resolve(env.H2G_CACHE);
  const base = env.XDG_CACHE_HOME ? path.resolve(env.XDG_CACHE_HOME) : path.join(os.homedir(), '.cache');
  return path.join(base, 'h2gnet', 'results');
}
