/**
 * Admission control: at most `maxConcurrent` jobs run, at most `maxQueue` wait; beyond that a job is
 * refused at once (RESOURCE_EXHAUSTED) rather than piling up memory and latency. Waiting jobs hear
 * their position whenever it changes, so a client can show "2 jobs ahead of you".
 */
import { CancelledError } from '../../pipeline/errors';
import { QueueFullError, ShuttingDownError } from '../errors';

export interface QueueLimits {
  maxConcurrent: number;
  maxQueue: number;
}

/** Call once when the job is over (success, failure or cancel); frees the slot. */
export type Release = () => void;

interface Waiter {
  grant: (release: Release) => void;
  reject: (err: Error) => void;
  onPosition?: (position: number) => void;
  detach: () => void;
}

export class JobQueue {
  private running = 0;
  private readonly waiting: Waiter[] = [];
  private closedWith: Error | null = null;

  constructor(readonly limits: QueueLimits) {
    if (!(limits.maxConcurrent >= 1) || !(limits.maxQueue >= 0)) {
      throw new RangeError('maxConcurrent must be >= 1 and maxQueue >= 0');
    }
  }

  get stats(): { running: number; queued: number } {
    return { running: this.running, queued: this.waiting.length };
  }

  /**
   * Resolves with a release function once the job may run. Rejects with QueueFullError when the
   * queue is full, CancelledError when `signal` aborts while waiting, ShuttingDownError after close().
   * `onPosition` is called with the position (0 = next) when queued and whenever it changes.
   */
  acquire(signal: AbortSignal, onPosition?: (position: number) => void): Promise<Release> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    if (signal.aborted) return Promise.reject(new CancelledError());
    if (this.running < this.limits.maxConcurrent && this.waiting.length === 0) {
      this.running++;
      return Promise.resolve(this.releaser());
    }
    if (this.waiting.length >= this.limits.maxQueue) return Promise.reject(new QueueFullError(this.limits.maxQueue));
    return new Promise<Release>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.waiting.indexOf(waiter);
        if (i >= 0) {
          this.waiting.splice(i, 1);
          this.notifyPositions(i);
        }
        reject(new CancelledError());
      };
      const waiter: Waiter = {
        grant: resolve,
        reject,
        onPosition,
        detach: () => signal.removeEventListener('abort', onAbort),
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
      onPosition?.(this.waiting.length - 1);
    });
  }

  /** Refuses new jobs and rejects the waiting ones with `reason`; running jobs are not touched. */
  close(reason: Error = new ShuttingDownError()): void {
    this.closedWith = reason;
    for (const waiter of this.waiting.splice(0)) {
      waiter.detach();
      waiter.reject(reason);
    }
  }

  private releaser(): Release {
    let released = false;
    return () => {
      if (released) return; // a double release must not free someone else's slot
      released = true;
      this.running--;
      this.startNext();
    };
  }

  private startNext(): void {
    while (this.running < this.limits.maxConcurrent && this.waiting.length > 0) {
      const waiter = this.waiting.shift()!;
      waiter.detach();
      this.running++;
      waiter.grant(this.releaser());
      this.notifyPositions(0);
    }
  }

  /** Tells waiters from index `from` on their new position (those before it did not move). */
  private notifyPositions(from: number): void {
    for (let i = from; i < this.waiting.length; i++) {
      try {
        this.waiting[i]!.onPosition?.(i);
      } catch {
        // A listener failing (a client gone) must not stop the others from hearing.
      }
    }
  }
}
