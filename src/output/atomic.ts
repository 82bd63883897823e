/**
 * Writes that never leave a half file: data goes to a temporary file beside the target, is flushed to
 * disk, then renamed over it (write-file-atomic, npm's own). A reader sees the old file or the new
 * one; a crash leaves at most a `<name>.<number>` temporary file, never a truncated target.
 */
import { readFile } from 'node:fs/promises';
import writeFileAtomic from 'write-file-atomic';

export async function writeFileAtomically(file: string, data: string | Uint8Array): Promise<void> {
  await writeFileAtomic(
    file,
    typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength),
  );
}

/** write-file-atomic's temporary names: the target's name, a dot and a decimal hash. */
export function isAtomicTemporary(name: string, target: string): boolean {
  return name.startsWith(`${target}.`) && /^\d+$/.test(name.slice(target.length + 1));
}

/** A copy that is whole or absent (results are a few MB: read whole, then written atomically). */
export async function copyFileAtomically(source: string, target: string): Promise<void> {
  await writeFileAtomically(target, await readFile(source));
}
