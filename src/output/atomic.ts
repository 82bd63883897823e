/**
 * Writing outputs so that none destroys an input or is left half written.
 *
 * `checkOutputPaths` refuses an output that resolves (symlinks, `..`, hard links) to an input or to
 * another output: `h2g segment slide.svs -o slide.svs` overwrote the slide with GeoJSON.
 * `writeFileAtomic` writes to a temporary file beside the target, flushes it to disk and renames it
 * over the target: a reader sees the old file or the new one; on a full disk (or any failure) the
 * target keeps its old content and the temporary file is removed. A symlink at the target is followed
 * (checkOutputPaths has made sure it does not lead to an input).
 *
 * Written by hand because npm's write-file-atomic 7 issues one write(2) and ignores a short count: at
 * a file-size limit it renamed a truncated PNG over the previous result (test/cli/outputs.test.ts).
 * FileHandle.writeFile loops until every byte is written or a write fails.
 */
import { randomInt } from 'node:crypto';
import { open, readFile, realpath, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';

export class OutputPathError extends Error {
  override name = 'OutputPathError';
  readonly code = 'INVALID_OPTION';
}

interface Identity {
  real: string;
  /** `dev:ino` of an existing file: hard links of one file share it. */
  inode: string | null;
}

async function identify(file: string): Promise<Identity> {
  const absolute = path.resolve(file);
  const real = await realpath(absolute).catch(async () => {
    // Not there yet: its directory's real path and its own name.
    const dir = await realpath(path.dirname(absolute)).catch(() => path.dirname(absolute));
    return path.join(dir, path.basename(absolute));
  });
  const st = await stat(real).catch(() => null);
  return { real, inode: st ? `${st.dev}:${st.ino}` : null };
}

const same = (a: Identity, b: Identity): boolean => a.real === b.real || (a.inode !== null && a.inode === b.inode);

/**
 * Throws OutputPathError when an output is an input or another output. `outputs` maps each output's
 * option name (for the message) to its path; '-' (stdout) is skipped.
 */
export async function checkOutputPaths(
  inputs: readonly string[],
  outputs: Record<string, string | undefined>,
): Promise<void> {
  const ins = await Promise.all(inputs.map(async (file) => ({ file, id: await identify(file) })));
  const seen: { name: string; id: Identity }[] = [];
  for (const [name, file] of Object.entries(outputs)) {
    if (file === undefined || file === '-') continue;
    const id = await identify(file);
    const input = ins.find((i) => same(i.id, id));
    if (input) throw new OutputPathError(`${name} ${file} is the input ${input.file}: refusing to overwrite it`);
    const other = seen.find((o) => same(o.id, id));
    if (other)
      throw new OutputPathError(`${name} ${file} is the same file as ${other.name}: give each output its own file`);
    seen.push({ name, id });
  }
}

/** Writes `data` to `file` atomically (see above). */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const target = await realpath(file).catch(() => path.resolve(file));
  const temporary = `${target}.${process.pid}${randomInt(1e9)}`;
  const handle = await open(temporary, 'wx');
  try {
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    await rename(temporary, target);
  } catch (err) {
    await handle.close().catch(() => undefined);
    await unlink(temporary).catch(() => undefined);
    throw err;
  }
}

/** Temporary names: the target's name, a dot and a decimal number. */
export function isAtomicTemporary(name: string, target: string): boolean {
  return name.startsWith(`${target}.`) && /^\d+$/.test(name.slice(target.length + 1));
}

/** A copy that is whole or absent (results are a few MB: read whole, then written atomically). */
export async function copyFileAtomic(source: string, target: string): Promise<void> {
  await writeFileAtomic(target, await readFile(source));
}
