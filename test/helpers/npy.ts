/** Minimal .npy reader for the reference outputs (little-endian float32 and uint8, C order). */
import { readFileSync } from 'node:fs';

export interface NpyArray {
  shape: number[];
  data: Float32Array | Uint8Array;
}

export function readNpy(file: string): NpyArray {
  const buf = readFileSync(file);
  const headerLen = buf.readUInt16LE(8);
  const header = buf.toString('latin1', 10, 10 + headerLen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${file} is in Fortran order; save C-contiguous arrays`);
  const body = buf.subarray(10 + headerLen);
  const copy = new Uint8Array(body).buffer;
  if (descr === '<f4') return { shape, data: new Float32Array(copy) };
  if (descr === '|u1') return { shape, data: new Uint8Array(copy) };
  throw new Error(`unsupported dtype ${descr} in ${file}`);
}
