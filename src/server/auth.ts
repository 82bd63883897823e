/**
 * Bearer-token authentication for every call (the health service included): a server interceptor
 * rejects a call before any handler sees it. Tokens are compared in constant time and never logged.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import {
  type Metadata,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
  ServerInterceptingCall,
  status,
} from '@grpc/grpc-js';
import type { Logger } from '../log';

/** Short tokens can be guessed over the network; 16 characters of random text is the floor. */
export const MIN_TOKEN_LENGTH = 16;

export class TokenFileError extends Error {
  override name = 'TokenFileError';
}

/** Reads the token (surrounding whitespace and the trailing newline removed). */
export async function readTokenFile(file: string, log?: Logger): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new TokenFileError(`cannot read the token file ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  const token = text.trim();
  if (token.length < MIN_TOKEN_LENGTH) {
    throw new TokenFileError(`the token in ${file} must have at least ${MIN_TOKEN_LENGTH} characters`);
  }
  if (/\s/.test(token)) throw new TokenFileError(`the token in ${file} must be one line without spaces`);
  const mode = (await stat(file)).mode;
  if (mode & 0o077) log?.warn({ file }, 'the token file is readable by other users; chmod 600 it');
  return token;
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * True when `header` is `Bearer <expected>`. Both sides are hashed first so the comparison takes the
 * same time whatever the length or content of the guess.
 */
export function bearerMatches(expected: string, header: unknown): boolean {
  const value = typeof header === 'string' ? header : Buffer.isBuffer(header) ? header.toString('utf8') : '';
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(value);
  const given = match?.[1] ?? '';
  // Hash even when there is no token, so a missing header costs the same as a wrong one.
  const ok = timingSafeEqual(digest(expected), digest(given));
  return ok && match !== null;
}

export function authInterceptor(token: string, log: Logger): ServerInterceptor {
  return (method, call: ServerInterceptingCallInterface) =>
    new ServerInterceptingCall(call, {
      start: (next) => {
        next({
          onReceiveMetadata: (metadata: Metadata, mdNext: (m: Metadata) => void) => {
            const values = metadata.get('authorization');
            if (values.length === 1 && bearerMatches(token, values[0])) {
              mdNext(metadata);
              return;
            }
            log.warn({ method: method.path, peer: call.getPeer(), given: values.length > 0 }, 'unauthenticated call');
            call.sendStatus({
              code: status.UNAUTHENTICATED,
              details:
                values.length === 0
                  ? 'this server needs "authorization: Bearer <token>" metadata'
                  : 'the bearer token is not valid for this server',
            });
          },
        });
      },
    });
}
