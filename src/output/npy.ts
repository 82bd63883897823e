/**
 * NumPy .npy (format 1.0) writer for float32 and uint8 arrays. Hand-written: the format is a 10-byte preamble and
 * a Python-dict header, and the npm packages for it only read.
 */
import { writeFileAtomic } from './atomic';

export function encodeNpy(values: Float32Array | Uint8Array, shape: readonly number[]): Buffer {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== values.length) throw new Error(`shape [${shape.join(', ')}] does not hold ${values.length} values`);
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  const descr = values instanceof Float32Array ? '<f4' : '|u1';
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${dims}), }`;
  // The preamble plus header is padded with spaces to a multiple of 64 bytes and ends with a newline.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const body = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  // .npy data is little-endian as declared ('<f4'); Node only runs little-endian here, but be explicit.
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('big-endian hosts are not supported');
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), body]);
}

export async function writeNpy(
  file: string,
  values: Float32Array | Uint8Array,
  shape: readonly number[],
): Promise<void> {
  await writeFileAtomic(file, encodeNpy(values, shape));
}
