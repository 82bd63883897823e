/**
 * The event loop never blocks: on a real `h2g serve` inferring batches of 64 full-size patches
 * (one to eight seconds each on 2 shared cores), health checks, GetInfo and SIGTERM are answered
 * within 100 ms (95th percentile), and a cancelled job stops within one batch. Before inference left
 * the main thread, each batch blocked every call for its whole duration.
 *
 * The single slowest answer is held to a looser bound (NEVER_MS): on the shared 2-core machine, with
 * onnxruntime's two threads busy and a load average of 10-20 from other work, the kernel alone
 * sometimes leaves a runnable main thread waiting 100-200 ms. A blocked loop waits a whole batch.
 */
import { credentials, status } from '@grpc/grpc-js';
import { HealthCheckResponse_ServingStatus, HealthClient } from '../../src/generated/health/v1/health';
import type { SegmentEvent } from '../../src/generated/h2gnet/v1/segmentation';
import { PYRAMID_40X } from '../helpers/paths';
import { type ChildServer, spawnServer } from './child';
import { collect, segment, testModels } from './helpers';

const JOB = { mpp: 1, batchSize: 64 }; // 432 cells at 1 um/px, ~200 with tissue: a few large batches
const LIMIT_MS = 100;
const NEVER_MS = 500;

function p95(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length * 0.95)]!;
}

let ts: ChildServer;
let health: HealthClient;
beforeAll(async () => {
  ts = await spawnServer(['--models', testModels('full'), '--grace-seconds', '0']);
  health = new HealthClient(ts.address, credentials.createInsecure());
  // The first job warms the sessions (their first run allocates), so later batches are steady.
  await collect(segment(ts.client, PYRAMID_40X, { mpp: 1, batchSize: 4 }));
}, 180_000);
afterAll(async () => {
  health.close();
  await ts.stop();
});

function timed<T>(call: (done: (err: Error | null, value?: T) => void) => void): Promise<{ ms: number; value?: T }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) =>
    call((err, value) => (err ? reject(err) : resolve({ ms: performance.now() - t0, value }))),
  );
}

const checkHealth = () =>
  timed<HealthCheckResponse_ServingStatus>((done) => health.check({ service: '' }, (e, r) => done(e, r?.status)));
const getInfo = () => timed((done) => ts.client.getInfo({}, (e, r) => done(e, r)));

/** Resolves when the job has reported `n` batches. */
function batches(events: SegmentEvent[], n: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setInterval(() => {
      const done = events.filter((e) => e.event?.$case === 'progress' && e.event.progress.stage === 'patches');
      if (done.length > n) {
        clearInterval(t);
        resolve();
      }
    }, 5);
  });
}

test('health and GetInfo answer within 100 ms while batches infer; a cancel stops within one batch', async () => {
  const call = segment(ts.client, PYRAMID_40X, JOB);
  const events: SegmentEvent[] = [];
  call.on('data', (e: SegmentEvent) => events.push(e));
  const ended = collect(call);
  await batches(events, 0);
  const healthMs: number[] = [];
  const infoMs: number[] = [];
  // Sample across two whole batches of inference.
  const patchEvents = () =>
    events.filter((e) => e.event?.$case === 'progress' && e.event.progress.stage === 'patches').length;
  while (patchEvents() < 3) {
    healthMs.push((await checkHealth()).ms);
    if (healthMs.length % 10 === 0) infoMs.push((await getInfo()).ms);
    await new Promise((r) => setTimeout(r, 10));
  }
  const patchesBefore = events.filter((e) => e.event?.$case === 'progress' && e.event.progress.stage === 'patches');
  expect(patchesBefore.length).toBeGreaterThan(1); // it was inferring all along
  expect(healthMs.length).toBeGreaterThan(50);
  expect(p95(healthMs)).toBeLessThan(LIMIT_MS);
  expect(p95(infoMs)).toBeLessThan(LIMIT_MS);
  expect(Math.max(...healthMs, ...infoMs)).toBeLessThan(NEVER_MS);

  const cancelledAt = Date.now();
  call.cancel();
  expect((await ended).error?.code).toBe(status.CANCELLED);
  // The server lets go of the job within one batch (about a second here; allow two for a busy box).
  const released = await new Promise<number>((resolve) => {
    const t = setInterval(() => {
      const line = ts.logs.find((l) => l.msg === 'job released' && (l.time as number) >= cancelledAt);
      if (line) {
        clearInterval(t);
        resolve(line.time as number);
      }
    }, 10);
  });
  const batchMs =
    ((patchesBefore.at(-1)!.event as { progress: { elapsedSeconds: number } }).progress.elapsedSeconds * 1000) /
    patchesBefore.length;
  expect(released - cancelledAt).toBeLessThan(2 * batchMs + 500);
}, 120_000);

test('SIGTERM is answered at once: health turns NOT_SERVING mid-batch, the job stops', async () => {
  const call = segment(ts.client, PYRAMID_40X, JOB);
  const events: SegmentEvent[] = [];
  call.on('data', (e: SegmentEvent) => events.push(e));
  const ended = collect(call);
  await batches(events, 1);
  const watch = health.watch({ service: '' });
  const notServing = new Promise<number>((resolve) =>
    watch.on('data', (r: { status: HealthCheckResponse_ServingStatus }) => {
      if (r.status === HealthCheckResponse_ServingStatus.NOT_SERVING) resolve(performance.now());
    }),
  );
  watch.on('error', () => undefined);
  await new Promise((r) => setTimeout(r, 50)); // the watch's first answer (SERVING)
  const t0 = performance.now();
  ts.child.kill('SIGTERM');
  expect((await notServing) - t0).toBeLessThan(NEVER_MS);
  expect((await ended).error?.code).toBe(status.UNAVAILABLE);
  expect(await ts.exited).toBe(0);
}, 120_000);
