/**
 * Requests that cannot be decoded (an int64 beyond 2^53 - 1, which ts-proto's forceLong=number refuses
 * to round; truncated bytes) are bad input: grpc-js would answer INTERNAL for a decoder that throws,
 * and INTERNAL never means bad input here. So the service's decoders are wrapped: a message that
 * fails to decode arrives as a marker the handler answers with INVALID_ARGUMENT.
 */
import type { ServiceDefinition } from '@grpc/grpc-js';

const MALFORMED = Symbol('malformed');

interface Malformed {
  [MALFORMED]: string;
}

/** The service with decoders that return a marker instead of throwing. */
export function tolerantDecoding<S extends ServiceDefinition>(service: S): S {
  const wrapped = Object.entries(service).map(([name, method]) => [
    name,
    {
      ...method,
      requestDeserialize: (bytes: Buffer): unknown => {
        try {
          return method.requestDeserialize(bytes);
        } catch (err) {
          return { [MALFORMED]: (err as Error).message } satisfies Malformed;
        }
      },
    },
  ]);
  return Object.fromEntries(wrapped) as S;
}

/** Why a decoded message is malformed, or null for a good one. */
export function malformedReason(message: unknown): string | null {
  return typeof message === 'object' && message !== null && MALFORMED in message
    ? (message as Malformed)[MALFORMED]
    : null;
}
