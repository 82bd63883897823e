/**
 * Jobs on a real `h2g serve` child process: cancel mid-job (pixel method and path method) and a
 * passed deadline stop the job, close its slide and free its slot, and the next job succeeds;
 * 20 concurrent clients on a small slide all get the correct polygons or a clean refusal.
 */
import { status } from '@grpc/grpc-js';
import type { SegmentEvent } from '../../src/generated/h2gnet/v1/segmentation';
import { OpenSlide } from '../../src/slide/openslide';
import { CMU_SMALL } from '../helpers/paths';
import { type ChildServer, type LogLine, spawnServer } from './child';
import { collect, geometries, resultOf, segment, segmentPixels, smallSlide, waitFor } from './helpers';

let ts: ChildServer;
let reference: unknown[];

beforeAll(async () => {
  ts = await spawnServer(['--max-concurrent', '2', '--max-queue', '6']);
  const got = await collect(segment(ts.client, smallSlide()));
  expect(got.error).toBeNull();
  reference = geometries(resultOf(got.events));
  expect(reference.length).toBeGreaterThan(0);
});

afterAll(async () => {
  expect(await ts?.stop()).toBe(0);
});

/** The log lines of the job whose 'job received' line matches `match`. */
function jobLogs(match: (l: LogLine) => boolean): LogLine[] {
  const received = ts.logs.find((l) => l.msg === 'job received' && match(l));
  return received ? ts.logs.filter((l) => l.job === received.job) : [];
}

async function expectReleased(match: (l: LogLine) => boolean, code: string): Promise<void> {
  const has = (msg: string) => jobLogs(match).some((l) => l.msg === msg);
  await waitFor(() => has('job released') && has('job ended without result'), 10000, 'the job to be released');
  const logs = jobLogs(match);
  expect(logs.find((l) => l.msg === 'job released')).toMatchObject({ slideClosed: true });
  expect(logs.find((l) => l.msg === 'job ended without result')).toMatchObject({ code });
}

const patchProgress = (events: SegmentEvent[]) =>
  events.flatMap((e) =>
    e.event?.$case === 'progress' && e.event.progress.stage === 'patches' ? [e.event.progress] : [],
  );

test('cancelling a SegmentPixels job in its patch stage stops it, frees it, and the next job succeeds', async () => {
  const slide = await OpenSlide.open(smallSlide());
  try {
    const events: SegmentEvent[] = [];
    let hold = false;
    const run = segmentPixels(ts.client, slide, {
      name: 'cancel-me',
      options: { batchSize: 1, tissueThreshold: 0.01 },
      beforeAnswer: () => !hold,
    });
    run.call.on('data', (m: { message?: { $case: string; event?: SegmentEvent } }) => {
      if (m.message?.$case !== 'event') return;
      events.push(m.message.event!);
      if ((patchProgress(events).at(-1)?.done ?? 0) >= 2 && !hold) {
        hold = true; // stop answering, then cancel while the job waits for its next patches
        setTimeout(() => run.call.cancel(), 50);
      }
    });
    const got = await run.done;
    expect(got.error?.code).toBe(status.CANCELLED);
    const last = patchProgress(events).at(-1)!;
    expect(last.done).toBeLessThan(last.total); // it really was mid-job
    await expectReleased((l) => l.image === 'cancel-me', 'CANCELLED');

    const next = await collect(segment(ts.client, smallSlide()));
    expect(next.error).toBeNull();
    expect(geometries(resultOf(next.events))).toEqual(reference);
  } finally {
    await slide.close();
  }
});

test('cancelling a Segment job mid-way stops it and frees it; the next job succeeds', async () => {
  const call = segment(ts.client, CMU_SMALL, { batchSize: 1, tissueThreshold: 0.01 });
  call.on('data', (e: SegmentEvent) => {
    if (e.event?.$case === 'progress' && e.event.progress.stage === 'patches' && e.event.progress.done >= 1)
      call.cancel();
  });
  const got = await collect(call);
  expect(got.error?.code).toBe(status.CANCELLED);
  expect(resultOf(got.events)).toBeUndefined();
  await expectReleased((l) => l.slide === CMU_SMALL, 'CANCELLED');
  const next = await collect(segment(ts.client, smallSlide()));
  expect(geometries(resultOf(next.events))).toEqual(reference);
});

test('a passed deadline stops the job (DEADLINE_EXCEEDED for the client) and frees it', async () => {
  const started = Date.now();
  // A pixel size five times the slide's makes its 10x grid 25 times larger (~600 patches), inferred
  // one per batch: a job still in its patch stage (which checks for cancellation after every batch)
  // when the deadline passes, however fast the machine. At the slide's own 0.4991 um/px it was at
  // times past its patches after 1 s, and finished.
  const slow = { mpp: 2.5, batchSize: 1 };
  const got = await collect(segment(ts.client, CMU_SMALL, slow, { deadline: new Date(Date.now() + 1000) }));
  expect(got.error?.code).toBe(status.DEADLINE_EXCEEDED);
  expect(Date.now() - started).toBeLessThan(4000);
  // The job was identified by its slide; the CANCELLED outcome is the server's view of the deadline.
  await waitFor(
    () =>
      ts.logs.some(
        (l) =>
          l.msg === 'job ended without result' && l.code === 'CANCELLED' && jobLogs((r) => r.job === l.job).length > 0,
      ),
    10000,
    'the deadline job to end',
  );
  const next = await collect(segment(ts.client, smallSlide()));
  expect(geometries(resultOf(next.events))).toEqual(reference);
});

test('20 concurrent clients on a small slide: each gets the correct polygons or RESOURCE_EXHAUSTED', async () => {
  const slide = await OpenSlide.open(smallSlide());
  try {
    const runs = Array.from({ length: 20 }, (_, i) =>
      i % 4 === 3 ? segmentPixels(ts.client, slide).done : collect(segment(ts.client, smallSlide())),
    );
    const outcomes = await Promise.all(runs);
    const ok = outcomes.filter((o) => o.error === null);
    const refused = outcomes.filter((o) => o.error !== null);
    for (const o of ok) expect(geometries(resultOf(o.events))).toEqual(reference);
    for (const o of refused) {
      expect(o.error!.code).toBe(status.RESOURCE_EXHAUSTED);
      expect(o.events.filter((e) => e.event?.$case === 'result')).toEqual([]);
    }
    // 2 running + 6 queued fit; the first 8 to arrive are admitted, later ones may be too as slots free.
    expect(ok.length).toBeGreaterThanOrEqual(8);
    expect(refused.length).toBeGreaterThan(0);
    const queued = ok.filter((o) =>
      o.events.some((e) => e.event?.$case === 'progress' && e.event.progress.stage === 'queued'),
    );
    expect(queued.length).toBeGreaterThan(0);
  } finally {
    await slide.close();
  }
});
