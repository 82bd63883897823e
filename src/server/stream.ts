/**
 * Guarded writing to a server stream: once the call is over (cancelled, failed or ended) further
 * writes are dropped instead of throwing "write after end", and the status is sent exactly once.
 * A misbehaving or vanished client can therefore never crash the process through a late event.
 */
import type { ServerDuplexStream, ServerWritableStream } from '@grpc/grpc-js';
import { type GrpcStatus, toServiceError } from './errors';

type Stream<Out> = ServerWritableStream<unknown, Out> | ServerDuplexStream<unknown, Out>;

export class GuardedStream<Out> {
  private closed = false;

  constructor(private readonly call: Stream<Out>) {
    call.on('cancelled', () => (this.closed = true));
  }

  get isClosed(): boolean {
    return this.closed || this.call.cancelled;
  }

  write(message: Out): void {
    if (this.isClosed) return;
    // grpc-js buffers when the client reads slowly; our events are small and few per batch.
    this.call.write(message);
  }

  /** Ends the call with OK. */
  end(): void {
    if (this.isClosed) return;
    this.closed = true;
    this.call.end();
  }

  /** Ends the call with an error status (after the messages already written). */
  fail(s: GrpcStatus): void {
    if (this.isClosed) return;
    this.closed = true;
    this.call.emit('error', toServiceError(s));
  }
}
