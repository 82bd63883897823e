/**
 * Admission on a real in-process server: with one slot and one queue place, a third job is refused
 * with RESOURCE_EXHAUSTED, the queued one hears its position, and cancelling frees both places.
 * Jobs are SegmentPixels calls whose client holds back its answers, so "running" lasts as long as
 * the test wants.
 */
import { status } from '@grpc/grpc-js';
import type { SegmentEvent } from '../../src/generated/h2gnet/v1/segmentation';
import { OpenSlide } from '../../src/slide/openslide';
import { CMU_SMALL } from '../helpers/paths';
import { type TestServer, collect, segment, segmentPixels, startServer, waitFor } from './helpers';

let ts: TestServer;
let slide: OpenSlide;

beforeAll(async () => {
  ts = await startServer({ maxConcurrent: 1, maxQueue: 1 });
  slide = await OpenSlide.open(CMU_SMALL);
});

afterAll(async () => {
  await ts.close();
  await slide.close();
});

/** A pixel job that asks for regions but never gets them until cancelled. */
function heldJob(): { run: ReturnType<typeof segmentPixels>; asked: () => boolean; events: SegmentEvent[] } {
  let asked = false;
  const events: SegmentEvent[] = [];
  const run = segmentPixels(ts.client, slide, {
    beforeAnswer: () => {
      asked = true;
      return false;
    },
  });
  run.call.on('data', (m: { message?: { $case: string; event?: SegmentEvent } }) => {
    if (m.message?.$case === 'event') events.push(m.message.event!);
  });
  return { run, asked: () => asked, events };
}

test('a full queue answers RESOURCE_EXHAUSTED; the queued job sees its position; cancel frees the places', async () => {
  const a = heldJob();
  await waitFor(a.asked, 20000, 'job A to run');
  expect(ts.server.stats).toMatchObject({ running: 1, queued: 0 });

  const b = heldJob();
  await waitFor(() => ts.server.stats.queued === 1, 20000, 'job B to queue');
  await waitFor(() => b.events.length > 0, 5000, 'the queued event');
  expect(b.events[0]!.event).toEqual({
    $case: 'progress',
    progress: expect.objectContaining({ stage: 'queued', queuePosition: 0 }),
  });
  expect(b.asked()).toBe(false);

  const refused = await collect(segment(ts.client, CMU_SMALL));
  expect(refused.error?.code).toBe(status.RESOURCE_EXHAUSTED);
  expect(refused.error?.details).toMatch(/queue is full/);
  expect(refused.events).toEqual([]);

  // Cancel A: B moves up and starts asking for pixels.
  a.run.call.cancel();
  expect((await a.run.done).error?.code).toBe(status.CANCELLED);
  await waitFor(b.asked, 20000, 'job B to start');
  expect(ts.server.stats).toMatchObject({ running: 1, queued: 0 });

  // Cancel B too: everything is free, and a new job gets to run at once.
  b.run.call.cancel();
  await b.run.done;
  await waitFor(() => ts.server.stats.active === 0, 5000, 'all jobs released');
  expect(ts.server.stats).toEqual({ running: 0, queued: 0, active: 0 });
  const c = heldJob();
  await waitFor(c.asked, 20000, 'job C to run');
  c.run.call.cancel();
  await c.run.done;
  await waitFor(() => ts.server.stats.active === 0, 5000, 'job C released');
});

test('a job cancelled while queued leaves the queue without ever running', async () => {
  const a = heldJob();
  await waitFor(a.asked, 20000, 'job A to run');
  const b = heldJob();
  await waitFor(() => ts.server.stats.queued === 1, 20000, 'job B to queue');
  b.run.call.cancel();
  await b.run.done;
  await waitFor(() => ts.server.stats.queued === 0, 5000, 'B to leave the queue');
  expect(b.asked()).toBe(false);
  expect(ts.server.stats.running).toBe(1);
  a.run.call.cancel();
  await a.run.done;
  await waitFor(() => ts.server.stats.active === 0, 5000, 'all released');
});
