/**
 * Which slide files a client may make the server read. Paths are resolved with realpath (symlinks
 * and `..` followed) and must lie inside an allowed root; a path outside gets PERMISSION_DENIED
 * whether or not it exists, so a client cannot probe the file system beyond the roots.
 */
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { ConfigError } from './config';
import { RequestError } from './errors';

function isInside(child: string, root: string): boolean {
  if (child === root) return true;
  const prefix = root.endsWith(path.sep) ? root : root + path.sep;
  return child.startsWith(prefix);
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
      throw new RequestError(status.INVALID_ARGUMENT, `slide_path must be absolute: ${slidePath}`);
    }
    const denied = new RequestError(
      status.PERMISSION_DENIED,
      `${slidePath} is outside the directories this server may read (see --allow-root)`,
    );
    let real: string;
    try {
      real = await realpath(slidePath);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        // Judge a missing file by its nearest existing ancestor, so "not found" is only ever said inside a root.
        if (!this.allowed(await this.realAncestor(slidePath))) throw denied;
        throw new RequestError(status.NOT_FOUND, `slide not found: ${slidePath}`);
      }
      if (code === 'EACCES') throw new RequestError(status.PERMISSION_DENIED, `the server cannot access ${slidePath}`);
      if (code === 'ELOOP') throw new RequestError(status.INVALID_ARGUMENT, `too many symbolic links in ${slidePath}`);
      throw err;
    }
    if (!this.allowed(real)) throw denied;
    const st = await stat(real);
    // Refuse FIFOs, devices and directories: opening /dev/zero or a FIFO would hang or never end.
    if (!st.isFile()) throw new RequestError(status.NOT_FOUND, `not a regular file: ${slidePath}`);
    return real;
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
