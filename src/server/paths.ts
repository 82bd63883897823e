/**
 * Which slide files a client may make the server read. Paths are resolved with realpath (symlinks
 * and `..` followed) and must lie inside an allowed root; a path outside gets PERMISSION_DENIED
 * whatever its state (missing, a symlink loop, a name too long), so a client cannot probe the file
 * system beyond the roots.
 *
 * The slide that was checked is the slide that is read: a job checks its path when it is received
 * (to fail fast) and again when it starts, on the opened file itself (`pin`): the file is opened
 * once, the real path of that descriptor is checked, and OpenSlide (which opens the file again for
 * each of its handles, for the whole job) is given a link to that descriptor, so a file swapped for
 * a symlink to somewhere else after the check is never read.
 */
import { existsSync } from 'node:fs';
import { constants, mkdtemp, open, readlink, realpath, rm, stat, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { ConfigError } from './config';
import { RequestError } from './errors';

/** Linux's PATH_MAX; longer paths cannot be opened anyway. */
const MAX_PATH_CHARS = 4096;

/** A path as it may appear in a message: long ones shortened. */
function brief(p: string): string {
  return p.length > 200 ? `${p.slice(0, 200)}... (${p.length} characters)` : p;
}

function isInside(child: string, root: string): boolean {
  if (child === root) return true;
  const prefix = root.endsWith(path.sep) ? root : root + path.sep;
  return child.startsWith(prefix);
}

/** Formats whose slide is several files beside each other: their directory is pinned, not the file. */
const MULTI_FILE_EXTENSIONS = new Set(['.mrxs', '.vms', '.vmu']);

/** An opened, checked slide file, and the path that reaches exactly it while it is held. */
export interface PinnedFile {
  /** Give this to OpenSlide: it resolves to the opened file (or, for multi-file formats, directory). */
  path: string;
  /** The real path of what was opened. */
  real: string;
  release(): Promise<void>;
}

export class PathPolicy {
  private constructor(readonly roots: readonly string[]) {}

  /** `roots` must be existing directories; empty = any path the server's user can read. */
  static async create(roots: readonly string[]): Promise<PathPolicy> {
    const resolved: string[] = [];
    for (const root of roots) {
      const real = await realpath(root).catch(() => null);
      const st = real ? await stat(real).catch(() => null) : null;
      if (!real || !st?.isDirectory()) throw new ConfigError(`--allow-root ${root} is not an existing directory`);
      resolved.push(real);
    }
    return new PathPolicy(Object.freeze(resolved));
  }

  private allowed(real: string): boolean {
    return this.roots.length === 0 || this.roots.some((root) => isInside(real, root));
  }

  /** The real path of an allowed, existing regular file; otherwise a RequestError with the right code. */
  async resolve(slidePath: string): Promise<string> {
    if (slidePath === '') throw new RequestError(status.INVALID_ARGUMENT, 'slide_path is empty');
    if (slidePath.includes('\0')) throw new RequestError(status.INVALID_ARGUMENT, 'slide_path contains a NUL byte');
    // A relative path would depend on the server's working directory, which the client cannot know.
    if (!path.isAbsolute(slidePath)) {
      throw new RequestError(status.INVALID_ARGUMENT, `slide_path must be absolute: ${brief(slidePath)}`);
    }
    const denied = new RequestError(
      status.PERMISSION_DENIED,
      `${brief(slidePath)} is outside the directories this server may read (see --allow-root)`,
    );
    if (slidePath.length > MAX_PATH_CHARS) {
      if (!this.allowed(path.resolve(slidePath))) throw denied;
      throw new RequestError(
        status.INVALID_ARGUMENT,
        `slide_path has ${slidePath.length} characters (at most ${MAX_PATH_CHARS})`,
      );
    }
    let real: string;
    try {
      real = await realpath(slidePath);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        // Judge a missing file by its nearest existing ancestor, so "not found" is only ever said inside a root.
        if (!this.allowed(await this.realAncestor(slidePath))) throw denied;
        throw new RequestError(status.NOT_FOUND, `slide not found: ${brief(slidePath)}`);
      }
      // Whatever else stops the lookup, a path that leads outside the roots is just that.
      if (!this.allowed(path.resolve(slidePath)) || !this.allowed(await this.realAncestor(slidePath))) throw denied;
      if (code === 'EACCES') throw new RequestError(status.PERMISSION_DENIED, `the server cannot access ${slidePath}`);
      throw new RequestError(
        status.INVALID_ARGUMENT,
        `cannot resolve slide_path (${code ?? 'error'}): ${brief(slidePath)}`,
      );
    }
    if (!this.allowed(real)) throw denied;
    const st = await stat(real).catch(() => null);
    if (!st) throw new RequestError(status.NOT_FOUND, `slide not found: ${brief(slidePath)}`);
    // Refuse FIFOs, devices and directories: opening /dev/zero or a FIFO would hang or never end.
    if (!st.isFile()) throw new RequestError(status.NOT_FOUND, `not a regular file: ${brief(slidePath)}`);
    return real;
  }

  /**
   * Opens the slide for a job that starts now and checks the opened file: its real path (read back
   * from the descriptor) inside the roots, a regular file. Without /proc (not Linux) the checked real
   * path is used as it is.
   */
  async pin(slidePath: string): Promise<PinnedFile> {
    const real = await this.resolve(slidePath);
    if (!existsSync('/proc/self/fd')) return { path: real, real, release: async () => undefined };
    const multi = MULTI_FILE_EXTENSIONS.has(path.extname(real).toLowerCase());
    // O_NONBLOCK: a FIFO put there since the check must not block the open.
    const flags = multi ? constants.O_RDONLY | constants.O_DIRECTORY : constants.O_RDONLY | constants.O_NONBLOCK;
    const handle = await open(multi ? path.dirname(real) : real, flags).catch(() => {
      throw new RequestError(
        status.NOT_FOUND,
        `slide not found (it changed since it was checked): ${brief(slidePath)}`,
      );
    });
    const fdPath = `/proc/self/fd/${handle.fd}`;
    let dir: string | null = null;
    try {
      const opened = await readlink(fdPath);
      const openedReal = multi ? path.join(opened, path.basename(real)) : opened;
      if (!this.allowed(openedReal)) {
        throw new RequestError(
          status.PERMISSION_DENIED,
          `${brief(slidePath)} is outside the directories this server may read (see --allow-root)`,
        );
      }
      if (multi)
        return { path: path.join(fdPath, path.basename(real)), real: openedReal, release: () => handle.close() };
      if (!(await handle.stat()).isFile()) {
        throw new RequestError(status.NOT_FOUND, `not a regular file: ${brief(slidePath)}`);
      }
      // OpenSlide tells some formats by their extension (.ndpi): the link keeps the slide's.
      dir = await mkdtemp(path.join(os.tmpdir(), 'h2g-slide-'));
      const link = path.join(dir, `slide${path.extname(real)}`);
      await symlink(fdPath, link);
      const made = dir;
      return {
        path: link,
        real: openedReal,
        release: async () => {
          await rm(made, { recursive: true, force: true });
          await handle.close();
        },
      };
    } catch (err) {
      if (dir) await rm(dir, { recursive: true, force: true });
      await handle.close();
      throw err;
    }
  }

  private async realAncestor(p: string): Promise<string> {
    let dir = path.dirname(path.resolve(p));
    for (;;) {
      const real = await realpath(dir).catch(() => null);
      if (real) return real;
      const parent = path.dirname(dir);
      if (parent === dir) return dir;
      dir = parent;
    }
  }
}
