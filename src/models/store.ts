/**
 * The per-user model cache: where installed model sets live, how they are listed, which one is the
 * default, and how a finished staging directory replaces a set atomically.
 *
 * Layout of the models home (see docs/README-models.md):
 *   <home>/<name>/                      one installed set: the two ONNX files + h2g-models.json
 *   <home>/.default                     optional: the name of the default set (`h2g models default`)
 *   <home>/.staging-<pid>-<random>/     an install in progress (never listed, never loaded)
 *   <home>/.old-<name>-<pid>-<random>/  the set being replaced, for the instant between two renames
 * Set names cannot start with a dot, so bookkeeping entries never collide with a set.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ModelError } from './errors';
import { MANIFEST_FILE, type Manifest, readManifest } from './manifest';

export type ModelRole = 'patch' | 'refinement';
export const ROLES: readonly ModelRole[] = ['patch', 'refinement'];

export const MODELS_HOME_ENV = 'H2G_MODELS_HOME';
export const PUBLISHED_SET = 'published';
export const DEMO_SET = 'demo';
const DEFAULT_MARKER = '.default';
const SET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** `--dest`, else $H2G_MODELS_HOME, else $XDG_CACHE_HOME/h2gnet/models, else ~/.cache/h2gnet/models. */
export function modelsHome(env: NodeJS.ProcessEnv = process.env, override?: string): string {
  if (override) return path.resolve(override);
  const own = env[MODELS_HOME_ENV];
  if (own) return path.resolve(own);
  // The XDG spec says a relative XDG_CACHE_HOME is invalid and must be ignored.
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'h2gnet', 'models');
  return path.join(env.HOME || os.homedir(), '.cache', 'h2gnet', 'models');
}

export function isValidSetName(name: string): boolean {
  return SET_NAME.test(name);
}

export function checkSetName(name: string): string {
  if (!isValidSetName(name)) {
    throw new ModelError(
      'MODEL_NOT_FOUND',
      `'${name}' is not a model set name: use 1-64 letters, digits, '.', '_' or '-', not starting with '.' or '-'`,
    );
  }
  return name;
}

export interface InstalledSet {
  name: string;
  directory: string;
  /** Null when the manifest cannot be read; `problem` then says why. */
  manifest: Manifest | null;
  problem: string | null;
}

async function isDir(p: string): Promise<boolean> {
  return (await stat(p).catch(() => null))?.isDirectory() ?? false;
}

/** A set is installed when its directory holds a manifest; whether the files are intact is `verify`'s job. */
export async function readInstalledSet(home: string, name: string): Promise<InstalledSet | null> {
  const directory = path.join(home, name);
  if (!isValidSetName(name) || !(await isDir(directory))) return null;
  try {
    const { manifest, fromFile } = await readManifest(directory);
    if (!fromFile) return { name, directory, manifest: null, problem: `no ${MANIFEST_FILE} in ${directory}` };
    return { name, directory, manifest, problem: null };
  } catch (err) {
    return { name, directory, manifest: null, problem: (err as Error).message };
  }
}

export async function listInstalledSets(home: string): Promise<InstalledSet[]> {
  const entries = await readdir(home, { withFileTypes: true }).catch(() => []);
  const names = entries
    .filter((e) => e.isDirectory() && isValidSetName(e.name))
    .map((e) => e.name)
    .sort();
  const sets = await Promise.all(names.map((n) => readInstalledSet(home, n)));
  return sets.filter((s): s is InstalledSet => s !== null);
}

/** The name in `<home>/.default`, or null when there is no marker. */
export async function readDefaultMarker(home: string): Promise<string | null> {
  const text = await readFile(path.join(home, DEFAULT_MARKER), 'utf8').catch(() => null);
  const name = text?.trim();
  return name ? name : null;
}

export async function writeDefaultMarker(home: string, name: string): Promise<void> {
  checkSetName(name);
  if (!(await readInstalledSet(home, name))?.manifest) {
    throw new ModelError('MODEL_NOT_FOUND', `no model set '${name}' is installed in ${home} (see h2g models list)`);
  }
  await mkdir(home, { recursive: true });
  const tmp = path.join(home, `${DEFAULT_MARKER}.${process.pid}.tmp`);
  await writeFile(tmp, `${name}\n`);
  await rename(tmp, path.join(home, DEFAULT_MARKER));
}

/** Whether a process of this host still runs (EPERM: it does, under another user). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes what an install killed half-way left behind (only entries whose process is gone, so a
 * concurrent install is never disturbed). A set caught between its two renames is put back.
 */
export async function cleanupStale(home: string): Promise<void> {
  const entries = await readdir(home).catch(() => [] as string[]);
  for (const entry of entries) {
    const staging = /^\.staging-(\d+)-[0-9a-f]+$/.exec(entry);
    const old = /^\.old-(.+)-(\d+)-[0-9a-f]+$/.exec(entry);
    const pid = Number(staging?.[1] ?? old?.[2] ?? NaN);
    if (!Number.isFinite(pid) || pid === process.pid || pidAlive(pid)) continue;
    const full = path.join(home, entry);
    if (old && isValidSetName(old[1]!) && !(await isDir(path.join(home, old[1]!)))) {
      await rename(full, path.join(home, old[1]!)).catch(() => undefined);
    } else {
      await rm(full, { recursive: true, force: true });
    }
  }
}

/** A fresh staging directory inside the home, so the final rename stays on one file system. */
export async function createStaging(home: string): Promise<string> {
  await mkdir(home, { recursive: true });
  const dir = path.join(home, `.staging-${process.pid}-${randomBytes(6).toString('hex')}`);
  await mkdir(dir);
  return dir;
}

/**
 * Puts a complete, checked staging directory in place as set `name`. rename() is atomic: a reader
 * sees the old set or the new one, never a mix. Replacing needs two renames; if the process dies
 * between them, cleanupStale() restores the old set.
 */
export async function commitStaging(home: string, staging: string, name: string): Promise<string> {
  checkSetName(name);
  const target = path.join(home, name);
  const old = path.join(home, `.old-${name}-${process.pid}-${randomBytes(6).toString('hex')}`);
  let moved = false;
  try {
    await rename(target, old);
    moved = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  try {
    await rename(staging, target);
  } catch (err) {
    if (moved) await rename(old, target).catch(() => undefined);
    throw err;
  }
  if (moved) await rm(old, { recursive: true, force: true });
  return target;
}
