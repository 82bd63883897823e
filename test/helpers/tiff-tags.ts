/**
 * Reads the directory entries of a classic TIFF or BigTIFF and edits them in place, a few bytes at a
 * time, as a careless tool or a hostile user would: for tests and the fuzz suite (test/fuzz/).
 */
export const TAG = {
  ImageWidth: 256,
  ImageLength: 257,
  TileWidth: 322,
  TileLength: 323,
  TileOffsets: 324,
} as const;

export interface TiffEntry {
  /** Directory index (0 = the first IFD). */
  dir: number;
  tag: number;
  type: number;
  count: number;
  /** Byte offset of the entry's value field (inline values start there). */
  valueOffset: number;
  /** Byte offset of the entry itself. */
  entryOffset: number;
}

export function tiffEntries(b: Buffer): TiffEntry[] {
  const le = b.toString('latin1', 0, 2) === 'II';
  const u16 = (o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const u64 = (o: number) => Number(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o));
  const big = u16(2) === 43;
  const entries: TiffEntry[] = [];
  let off = big ? u64(8) : u32(4);
  for (let dir = 0; off > 0 && off < b.length && dir < 1000; dir++) {
    const n = big ? u64(off) : u16(off);
    for (let i = 0; i < n; i++) {
      const e = off + (big ? 8 : 2) + i * (big ? 20 : 12);
      if (e + (big ? 20 : 12) > b.length) break;
      entries.push({
        dir,
        tag: u16(e),
        type: u16(e + 2),
        count: big ? u64(e + 4) : u32(e + 4),
        valueOffset: e + (big ? 12 : 8),
        entryOffset: e,
      });
    }
    const next = off + (big ? 8 + n * 20 : 2 + n * 12);
    if (next + (big ? 8 : 4) > b.length) break;
    off = big ? u64(next) : u32(next);
  }
  return entries;
}

/**
 * Sets a one-value SHORT or LONG tag of directory `dir` to `value`, turning a SHORT into a LONG
 * (type and value field, 6 bytes) when the value needs it, as an editor writing it anew would.
 */
export function setTag(b: Buffer, dir: number, tag: number, value: number): void {
  const le = b.toString('latin1', 0, 2) === 'II';
  const entry = tiffEntries(b).find((e) => e.dir === dir && e.tag === tag);
  if (!entry || entry.count !== 1 || (entry.type !== 3 && entry.type !== 4)) {
    throw new Error(`directory ${dir} has no one-value SHORT/LONG tag ${tag}`);
  }
  if (entry.type === 3 && value <= 0xffff) {
    if (le) b.writeUInt16LE(value, entry.valueOffset);
    else b.writeUInt16BE(value, entry.valueOffset);
    return;
  }
  if (le) {
    b.writeUInt16LE(4, entry.entryOffset + 2);
    b.writeUInt32LE(value, entry.valueOffset);
  } else {
    b.writeUInt16BE(4, entry.entryOffset + 2);
    b.writeUInt32BE(value, entry.valueOffset);
  }
}
