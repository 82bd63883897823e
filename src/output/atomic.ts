/**
 * Writing outputs so that none destroys an input or is left half written.
 *
 * `checkOutputPaths` refuses an output that resolves (symlinks, `..`, hard links) to an input or to
 * another output: `h2g segment slide.svs -o slide.svs` overwrote the slide with GeoJSON.
 * `writeFileAtomic` writes to a temporary file beside the target, flushes it to disk and renames it
 * over the target (write-file-atomic, npm's own): a reader sees the old file or the new one; on a full
 * disk (or any failure) the target keeps its old content and the temporary file is removed. A symlink
 * at the target is followed (checkOutputPaths has made sure it does not lead to an input).
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import writeFileAtomicLib from 'write-file-atomic';

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
  await writeFileAtomicLib(
    file,
    typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength),
  );
}

/** write-file-atomic's temporary names: the target's name, a dot and a decimal hash. */
export function isAtomicTemporary(name: string, target: string): boolean {
  return name.startsWith(`${target}.`) && /^\d+$/.test(name.slice(target.length + 1));
}

/** A copy that is whole or absent (results are a few MB: read whole, then written atomically). */
export async function copyFileAtomic(source: string, target: string): Promise<void> {
  await writeFileAtomic(target, await readFile(source));
}
