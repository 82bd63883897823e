/**
 * Protobuf bytes written by hand, for messages no well-behaved encoder would write (an int64 beyond
 * 2^53, a uint64 of 2^64 - 1) and for the fuzz suite's mutations; and a gRPC client that sends them.
 */
import { Client, type ClientDuplexStream, type ClientReadableStream, credentials } from '@grpc/grpc-js';
import { PixelServerMessage, SegmentEvent } from '../../src/generated/h2gnet/v1/segmentation';

export function varint(value: bigint | number): Buffer {
  let v = BigInt(value);
  if (v < 0n) v += 1n << 64n;
  const out: number[] = [];
  do {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v > 0n ? byte | 0x80 : byte);
  } while (v > 0n);
  return Buffer.from(out);
}

export const field = {
  varint: (n: number, value: bigint | number) => Buffer.concat([varint((n << 3) | 0), varint(value)]),
  double: (n: number, value: number) => {
    const b = Buffer.alloc(8);
    b.writeDoubleLE(value);
    return Buffer.concat([varint((n << 3) | 1), b]);
  },
  bytes: (n: number, value: Buffer | string) => {
    const b = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
    return Buffer.concat([varint((n << 3) | 2), varint(b.length), b]);
  },
};

/** PixelClientMessage{start{image{name, width, height, pixel_size_um, downsamples}}}. */
export function pixelStart(width: bigint | number, height: bigint | number, mpp = 0.5, downsamples = [1]): Buffer {
  const image = Buffer.concat([
    field.bytes(1, 'raw'),
    field.varint(2, width),
    field.varint(3, height),
    field.double(4, mpp),
    ...downsamples.map((d) => field.double(5, d)),
  ]);
  return field.bytes(1, field.bytes(1, image));
}

/** PixelClientMessage{region{id, width, height, rgb}}. */
export function pixelRegion(id: bigint | number, width: number, height: number, rgb: Buffer): Buffer {
  return field.bytes(
    2,
    Buffer.concat([field.varint(1, id), field.varint(2, width), field.varint(3, height), field.bytes(4, rgb)]),
  );
}

const identity = (b: Buffer): Buffer => b;

/** A client that sends raw bytes to the Segmentation service's streaming methods. */
export class RawClient extends Client {
  constructor(address: string) {
    super(address, credentials.createInsecure());
  }

  segmentPixels(): ClientDuplexStream<Buffer, PixelServerMessage> {
    return this.makeBidiStreamRequest('/h2gnet.v1.Segmentation/SegmentPixels', identity, (b: Buffer) =>
      PixelServerMessage.decode(b),
    );
  }

  segment(bytes: Buffer): ClientReadableStream<SegmentEvent> {
    return this.makeServerStreamRequest(
      '/h2gnet.v1.Segmentation/Segment',
      identity,
      (b: Buffer) => SegmentEvent.decode(b),
      bytes,
    );
  }
}
