/**
 * SIGTERM on a real `node bin/h2g.js serve`: health turns NOT_SERVING, new and queued jobs get
 * UNAVAILABLE, a running job finishes within the grace period (or is cancelled cleanly after it),
 * and the process exits 0. stdout carries exactly the READY line.
 */
import { credentials, status } from '@grpc/grpc-js';
import { HealthCheckResponse_ServingStatus, HealthClient } from '../../src/generated/health/v1/health';
import type { SegmentEvent } from '../../src/generated/h2gnet/v1/segmentation';
import { OpenSlide } from '../../src/slide/openslide';
import { type ChildServer, spawnServer } from './child';
import { collect, resultOf, segment, segmentPixels, smallSlide, waitFor } from './helpers';

let slide: OpenSlide;
beforeAll(async () => {
  slide = await OpenSlide.open(smallSlide());
});
afterAll(async () => {
  await slide.close();
});

function healthOf(ts: ChildServer): Promise<HealthCheckResponse_ServingStatus | number> {
  const health = new HealthClient(ts.address, credentials.createInsecure());
  return new Promise((resolve) =>
    health.check({ service: '' }, (err, res) => {
      health.close();
      resolve(err ? err.code : res.status);
    }),
  );
}

/** A pixel job whose answers wait for `release()`. */
function gatedJob(ts: ChildServer, name: string) {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  let asked = false;
  const run = segmentPixels(ts.client, slide, {
    name,
    beforeAnswer: async () => {
      asked = true;
      await gate;
      return true;
    },
  });
  const events: SegmentEvent[] = [];
  run.call.on('data', (m: { message?: { $case: string; event?: SegmentEvent } }) => {
    if (m.message?.$case === 'event') events.push(m.message.event!);
  });
  return { run, release: open, asked: () => asked, events };
}

test('SIGTERM drains: NOT_SERVING, new and queued jobs UNAVAILABLE, the running job finishes, exit 0', async () => {
  const ts = await spawnServer(['--max-concurrent', '1', '--max-queue', '2', '--grace-seconds', '60']);
  expect(await healthOf(ts)).toBe(HealthCheckResponse_ServingStatus.SERVING);
  const running = gatedJob(ts, 'running');
  await waitFor(running.asked, 20000, 'the job to run');
  const queued = gatedJob(ts, 'queued');
  await waitFor(() => queued.events.length > 0, 20000, 'the second job to queue');

  ts.child.kill('SIGTERM');
  await waitFor(() => ts.logs.some((l) => l.msg === 'shutting down'), 10000, 'shutdown to start');
  expect((await queued.run.done).error).toMatchObject({
    code: status.UNAVAILABLE,
    details: expect.stringMatching(/shutting down/),
  });
  expect(await healthOf(ts)).toBe(HealthCheckResponse_ServingStatus.NOT_SERVING);
  const late = await collect(segment(ts.client, smallSlide()));
  expect(late.error?.code).toBe(status.UNAVAILABLE);

  running.release();
  const done = await running.run.done;
  expect(done.error).toBeNull();
  expect(resultOf(done.events)?.summary?.polygonCount).toBeGreaterThan(0);
  expect(await ts.exited).toBe(0);
  expect(ts.stdout).toEqual([`READY port=${ts.port}`]);
  expect(ts.logs.some((l) => l.msg === 'stopped')).toBe(true);
  expect(ts.logs.filter((l) => l.level >= 50)).toEqual([]);
});

test('SIGTERM with a job that outlives the grace period: it is cancelled cleanly (UNAVAILABLE) and the process exits 0', async () => {
  const ts = await spawnServer(['--grace-seconds', '1']);
  const stuck = gatedJob(ts, 'stuck');
  await waitFor(stuck.asked, 20000, 'the job to run');
  const t0 = Date.now();
  ts.child.kill('SIGTERM');
  const got = await stuck.run.done;
  expect(got.error).toMatchObject({ code: status.UNAVAILABLE, details: expect.stringMatching(/cancelled this job/) });
  expect(await ts.exited).toBe(0);
  const seconds = (Date.now() - t0) / 1000;
  expect(seconds).toBeGreaterThanOrEqual(0.9);
  expect(seconds).toBeLessThan(8);
  expect(ts.logs.find((l) => l.msg === 'job released')).toMatchObject({ slideClosed: true });
  expect(ts.stdout).toHaveLength(1);
});
