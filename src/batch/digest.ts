/**
 * Content digests of slide and model files (SHA-256), remembered per file. Hashing a 2 GB slide takes
 * seconds, so each digest is stored beside the result cache under the file's identity: real path,
 * size, inode, modification and change time (nanoseconds). The change time cannot be set back by a
 * user, so a rewritten file is hashed again (the rule ccache's direct mode and git's index rely on).
 * `rehash` ignores the memo. Hashing runs on a worker thread: the main thread keeps feeding inference.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { writeFileAtomic } from '../output/atomic';
import { slideFiles } from './slide-files';

/**
 * The worker's whole source. Given as a string (eval) rather than a file so it runs the same from
 * dist/ and from the TypeScript sources under jest, which cannot start a worker from a .ts file.
 */
const HASH_WORKER = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { createReadStream } = require('node:fs');
parentPort.on('message', async ({ id, file }) => {
  try {
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk);
    parentPort.postMessage({ id, sha256: hash.digest('hex') });
  } catch (err) {
    parentPort.postMessage({ id, error: String(err && err.message), code: err && err.code });
  }
});
`;

interface Pending {
  resolve: (sha256: string) => void;
  reject: (err: Error) => void;
}

/** One hashing thread, shared by every digest of a process; idle, it does not keep the process alive. */
class HashWorker {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  hash(file: string): Promise<string> {
    const worker = this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ id, file });
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(HASH_WORKER, { eval: true });
    worker.on('message', (m: { id: number; sha256?: string; error?: string; code?: string }) => {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (this.pending.size === 0) worker.unref();
      if (!p) return;
      if (m.sha256) p.resolve(m.sha256);
      else p.reject(Object.assign(new Error(`cannot read ${m.error}`), { code: m.code }));
    });
    worker.on('error', (err) => this.failAll(err));
    worker.on('exit', () => {
      this.worker = null;
      this.failAll(new Error('the hashing thread stopped'));
    });
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}

const hasher = new HashWorker();

interface MemoRecord {
  path: string;
  size: string;
  ino: string;
  mtimeNs: string;
  ctimeNs: string;
  sha256: string;
}

export interface FileDigest {
  path: string;
  size: number;
  sha256: string;
}

export class DigestMemo {
  /** `dir`: where the records live; null = no memo (every digest is computed). */
  constructor(
    private readonly dir: string | null,
    private readonly rehash = false,
  ) {}

  /** SHA-256 of one file. */
  async file(file: string): Promise<FileDigest> {
    const { real, identity, record, known } = await this.lookup(file);
    if (known && !this.rehash) return { path: real, size: Number(identity.size), sha256: known };
    const sha256 = await hasher.hash(real);
    if (record) {
      await mkdir(path.dirname(record), { recursive: true });
      await writeFileAtomic(record, JSON.stringify({ ...identity, sha256 } satisfies MemoRecord));
    }
    return { path: real, size: Number(identity.size), sha256 };
  }

  /** The remembered digest of a slide when every one of its files is unchanged, else null; never hashes. */
  async knownSlide(file: string): Promise<string | null> {
    const files = await slideFiles(file).catch(() => null);
    if (!files) return null;
    const digests: FileDigest[] = [];
    for (const f of files) {
      const l = await this.lookup(f).catch(() => null);
      if (!l?.known) return null;
      digests.push({ path: l.real, size: Number(l.identity.size), sha256: l.known });
    }
    return combine(digests).sha256;
  }

  private async lookup(file: string) {
    const real = await realpath(file);
    const st = await stat(real, { bigint: true });
    const identity = {
      path: real,
      size: st.size.toString(),
      ino: st.ino.toString(),
      mtimeNs: st.mtimeNs.toString(),
      ctimeNs: st.ctimeNs.toString(),
    };
    const record = this.dir ? path.join(this.dir, recordName(real)) : null;
    const remembered = record ? await readRecord(record) : null;
    const known = remembered && sameIdentity(remembered, identity) ? remembered.sha256 : null;
    return { real, identity, record, known };
  }

  /**
   * The digest of a slide's content: its file's SHA-256, or for a slide of several files (MIRAX, VMS)
   * the SHA-256 of the lines `<name relative to the slide's folder> <sha256>`, one per file.
   */
  async slide(file: string): Promise<{ sha256: string; size: number }> {
    const files = await slideFiles(file);
    const digests: FileDigest[] = [];
    for (const f of files) digests.push(await this.file(f));
    return combine(digests);
  }
}

function combine(digests: FileDigest[]): { sha256: string; size: number } {
  const size = digests.reduce((s, d) => s + d.size, 0);
  if (digests.length === 1) return { sha256: digests[0]!.sha256, size };
  const base = path.dirname(digests[0]!.path);
  const lines = digests.map((d) => `${path.relative(base, d.path)} ${d.sha256}\n`).join('');
  return { sha256: createHash('sha256').update(lines).digest('hex'), size };
}

function recordName(realPath: string): string {
  const h = createHash('sha256').update(realPath).digest('hex');
  return path.join(h.slice(0, 2), `${h}.json`);
}

async function readRecord(file: string): Promise<MemoRecord | null> {
  try {
    const r = JSON.parse(await readFile(file, 'utf8')) as MemoRecord;
    return typeof r.sha256 === 'string' && /^[0-9a-f]{64}$/.test(r.sha256) ? r : null;
  } catch {
    return null; // absent or damaged: hash again
  }
}

function sameIdentity(a: Omit<MemoRecord, 'sha256'>, b: Omit<MemoRecord, 'sha256'>): boolean {
  return (
    a.path === b.path && a.size === b.size && a.ino === b.ino && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs
  );
}
