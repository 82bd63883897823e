/** Seeded mutations of slide files and protobuf messages for the fuzz suite. */
import { TAG, setTag, tiffEntries } from '../helpers/tiff-tags';

export type Random = () => number;

/** A small seeded generator (mulberry32): the same seed gives the same cases. */
export function seeded(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const int = (r: Random, n: number): number => Math.floor(r() * n);
const pick = <T>(r: Random, xs: readonly T[]): T => xs[int(r, xs.length)]!;

export interface Mutant {
  kind: string;
  detail: string;
  bytes: Buffer;
}

/** Values an edited size tag might take: edges, powers of two, the huge. */
const SIZE_VALUES = [
  0,
  1,
  2,
  15,
  16,
  255,
  256,
  4095,
  4096,
  4097,
  65535,
  65536,
  1 << 20,
  (1 << 20) + 1,
  2 ** 31,
  2 ** 32 - 1,
];

/** One mutation of a TIFF-based slide: truncated, bytes flipped in tile data or directories, a tag edited. */
export function mutateSlide(r: Random, original: Buffer): Mutant {
  const b = Buffer.from(original);
  const entries = tiffEntries(b);
  const kind = pick(r, ['truncated', 'tile-bytes', 'directory-bytes', 'tag-value'] as const);
  if (kind === 'truncated') {
    const at = int(r, b.length);
    return { kind, detail: `at ${at} of ${b.length}`, bytes: b.subarray(0, at) };
  }
  if (kind === 'tile-bytes') {
    // Bytes flipped in the second half of the file, where the tile data of a libvips/Aperio TIFF lies.
    const n = 1 + int(r, 64);
    for (let i = 0; i < n; i++) b[Math.floor(b.length / 2) + int(r, Math.floor(b.length / 2))]! ^= 1 + int(r, 255);
    return { kind, detail: `${n} bytes`, bytes: b };
  }
  if (kind === 'directory-bytes') {
    const e = pick(r, entries);
    const at = e.entryOffset + int(r, 12);
    b[at]! ^= 1 + int(r, 255);
    return { kind, detail: `directory ${e.dir} tag ${e.tag} byte ${at - e.entryOffset}`, bytes: b };
  }
  const sized = entries.filter(
    (e) => (Object.values(TAG) as number[]).includes(e.tag) && e.count === 1 && (e.type === 3 || e.type === 4),
  );
  const e = pick(r, sized);
  const value = pick(r, SIZE_VALUES);
  setTag(b, e.dir, e.tag, value);
  return { kind, detail: `directory ${e.dir} tag ${e.tag} = ${value}`, bytes: b };
}

/** One mutation of an encoded message: bytes flipped, truncated, a random varint spliced in. */
export function mutateMessage(r: Random, original: Buffer): { detail: string; bytes: Buffer } {
  const b = Buffer.from(original);
  const kind = pick(r, ['flip', 'truncate', 'splice', 'huge-varint'] as const);
  if (kind === 'flip') {
    const n = 1 + int(r, 4);
    for (let i = 0; i < n; i++) b[int(r, b.length)]! ^= 1 + int(r, 255);
    return { detail: `flip ${n}`, bytes: b };
  }
  if (kind === 'truncate') {
    const at = int(r, b.length);
    return { detail: `truncate at ${at}`, bytes: b.subarray(0, at) };
  }
  const at = int(r, b.length + 1);
  const insert =
    kind === 'splice'
      ? Buffer.from(Array.from({ length: 1 + int(r, 8) }, () => int(r, 256)))
      : Buffer.from([0x10 + int(r, 0x60), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
  return { detail: `${kind} at ${at}`, bytes: Buffer.concat([b.subarray(0, at), insert, b.subarray(at)]) };
}
