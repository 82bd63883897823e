/**
 * Writing outputs so that none destroys an input or is left half written.
 *
 * `checkOutputPaths` refuses an output that resolves (symlinks, `..`, hard links) to an input or to
 * another output: `h2g segment slide.svs -o slide.svs` overwrote the slide with GeoJSON.
 * `writeFileAtomic` writes to a temporary file in the target's directory, flushes it to disk and
 * renames it over the target: on a full disk (or any failure) the target keeps its old content and
 * the temporary file is removed. A symlink at the target is replaced, never written through.
 */
import { randomBytes } from 'node:crypto';
import { open, realpath, rename, rm, stat } from 'node:fs/promises';
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

/** Writes `data` to `file` through a temporary file in the same directory and a rename. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.partial`);
  const handle = await open(tmp, 'wx');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
