/**
 * The fuzz suite (`npm run fuzz`; not part of `npm test`): a real `h2g serve` and the real CLI get
 * mutated slides (truncated, bytes flipped in tile data and in directories, size tags edited) through
 * `h2g info` and `Segment`, and mutated protobuf messages through `Segment` and `SegmentPixels`.
 * After every case the server must be alive and answer health; every few cases a normal job must
 * complete with the same result; the server's RSS is sampled and must stay flat. No case may crash
 * the CLI or the server, hang, or answer INTERNAL/UNKNOWN (bad input never gets INTERNAL).
 *
 * Bounded in time: H2G_FUZZ_SECONDS (default 300) split between slides and messages; H2G_FUZZ_SEED
 * (default 13) makes a run repeatable. The report (counts, statuses, findings, RSS) goes to
 * .cache/fuzz/report.json and to stdout.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Metadata, type ServiceError, credentials, status } from '@grpc/grpc-js';
import { HealthCheckResponse_ServingStatus, HealthClient } from '../../src/generated/health/v1/health';
import { PixelClientMessage, SegmentRequest } from '../../src/generated/h2gnet/v1/segmentation';
import { runCli } from '../helpers/cli';
import { CMU_SMALL, ROOT } from '../helpers/paths';
import { RawClient, pixelRegion } from '../helpers/wire';
import { type ChildServer, spawnServer } from '../server/child';
import { collect, fullOptions, resultOf, segment, smallSlide, tempDir } from '../server/helpers';
import { type Random, mutateMessage, mutateSlide, seeded } from './mutate';

const SECONDS = Number(process.env.H2G_FUZZ_SECONDS ?? 300);
const SEED = Number(process.env.H2G_FUZZ_SEED ?? 13);
const REPORT = path.join(ROOT, '.cache', 'fuzz', 'report.json');
const BAD = new Set([status.INTERNAL, status.UNKNOWN]);

interface Finding {
  phase: string;
  n: number;
  detail: string;
  problem: string;
}

const dir = tempDir('h2g-fuzz-');
/** An intact copy of a cheap slide inside the server's root, for the normal jobs. */
const intact = path.join(dir, 'intact.tif');
writeFileSync(intact, readFileSync(smallSlide()));
const report = {
  seed: SEED,
  seconds: SECONDS,
  cases: { slides: 0, info: 0, segment: 0, messages: 0 },
  kinds: {} as Record<string, number>,
  statuses: {} as Record<string, number>,
  infoExits: {} as Record<string, number>,
  normalJobs: 0,
  rssMiB: [] as number[],
  findings: [] as Finding[],
};

let ts: ChildServer;
let health: HealthClient;
let raw: RawClient;
let normalPolygons = -1;

beforeAll(async () => {
  ts = await spawnServer(['--allow-root', dir, '--region-timeout-seconds', '5'], { H2G_LOG_LEVEL: 'warn' });
  health = new HealthClient(ts.address, credentials.createInsecure());
  raw = new RawClient(ts.address);
}, 120_000);

afterAll(async () => {
  health?.close();
  raw?.close();
  if (ts) await ts.stop();
  mkdirSync(path.dirname(REPORT), { recursive: true });
  writeFileSync(REPORT, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`fuzz report (${REPORT}):\n${JSON.stringify({ ...report, rssMiB: undefined }, null, 2)}\n`);
  rmSync(dir, { recursive: true, force: true });
});

const count = (map: Record<string, number>, key: string): void => {
  map[key] = (map[key] ?? 0) + 1;
};

function rssMiB(): number {
  const line = readFileSync(`/proc/${ts.child.pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line?.split(/\s+/)[1] ?? 0) / 1024;
}

/** The server answers health within 5 s, SERVING. */
function alive(): Promise<boolean> {
  return new Promise((resolve) =>
    health.check({ service: '' }, new Metadata(), { deadline: new Date(Date.now() + 5000) }, (err, res) =>
      resolve(!err && res.status === HealthCheckResponse_ServingStatus.SERVING),
    ),
  );
}

/** A normal job on an intact slide: must finish with the same polygons every time. */
async function normalJob(): Promise<string | null> {
  const r = await collect(segment(ts.client, intact, {}, { deadline: new Date(Date.now() + 120_000) }));
  const polygons = resultOf(r.events)?.summary?.polygonCount;
  report.normalJobs++;
  report.rssMiB.push(Math.round(rssMiB()));
  if (r.error || polygons === undefined) return `normal job failed: ${r.error?.code} ${r.error?.details}`;
  if (normalPolygons < 0) normalPolygons = polygons;
  return polygons === normalPolygons ? null : `normal job gave ${polygons} polygons, first gave ${normalPolygons}`;
}

async function afterCase(phase: string, n: number, detail: string, every: number): Promise<void> {
  if (!(await alive())) {
    report.findings.push({ phase, n, detail, problem: 'the server did not answer health' });
    throw new Error(`server down after ${phase} case ${n} (${detail})`);
  }
  if (n % every === 0) {
    const problem = await normalJob();
    if (problem) report.findings.push({ phase, n, detail, problem });
  }
}

function statusOf(err: ServiceError | null): string {
  return err ? (status[err.code] ?? String(err.code)) : 'OK';
}

async function slideCase(r: Random, n: number, sources: { file: string; bytes: Buffer }[]): Promise<void> {
  const source = sources[Math.floor(r() * sources.length)]!;
  const mutant = mutateSlide(r, source.bytes);
  const detail = `${path.basename(source.file)} ${mutant.kind} ${mutant.detail}`;
  count(report.kinds, mutant.kind);
  const file = path.join(dir, `case-${n}${path.extname(source.file)}`);
  writeFileSync(file, mutant.bytes);
  report.cases.slides++;

  const info = await runCli(['info', file], { H2G_LOG_LEVEL: 'warn' });
  report.cases.info++;
  count(report.infoExits, String(info.code));
  const lines = info.stderr
    .trim()
    .split('\n')
    .filter((l) => l !== '');
  if (![0, 1].includes(info.code))
    report.findings.push({ phase: 'info', n, detail, problem: `exit ${info.code}: ${info.stderr}` });
  else if (info.code === 1 && (lines.length !== 1 || !lines[0]!.startsWith('h2g: error: '))) {
    report.findings.push({ phase: 'info', n, detail, problem: `not one error line: ${info.stderr.slice(0, 500)}` });
  }

  const started = Date.now();
  const job = await collect(segment(ts.client, file, {}, { deadline: new Date(Date.now() + 120_000) }));
  report.cases.segment++;
  count(report.statuses, `Segment ${statusOf(job.error)}`);
  if (
    job.error &&
    (BAD.has(job.error.code) || (job.error.code === status.DEADLINE_EXCEEDED && Date.now() - started >= 119_000))
  ) {
    report.findings.push({ phase: 'segment', n, detail, problem: `${statusOf(job.error)}: ${job.error.details}` });
  }
  rmSync(file, { force: true });
  await afterCase('slides', n, detail, 10);
}

async function messageCase(r: Random, n: number, intact: string): Promise<void> {
  report.cases.messages++;
  if (r() < 0.5) {
    const valid = Buffer.from(
      SegmentRequest.encode({
        slidePath: intact,
        modelSet: '',
        precision: '',
        options: fullOptions({
          tissueThreshold: 0.5,
          batchSize: 8,
          roiGeojson: '{"type":"Polygon","coordinates":[[[0,0],[900,0],[900,900],[0,0]]]}',
        }),
      }).finish(),
    );
    const m = mutateMessage(r, valid);
    const res = await collect(raw.segment(m.bytes));
    count(report.statuses, `Segment ${statusOf(res.error)}`);
    if (res.error && BAD.has(res.error.code)) {
      report.findings.push({
        phase: 'messages',
        n,
        detail: `Segment ${m.detail}`,
        problem: `${statusOf(res.error)}: ${res.error.details}`,
      });
    }
    await afterCase('messages', n, m.detail, 50);
    return;
  }
  const start = Buffer.from(
    PixelClientMessage.encode({
      message: {
        $case: 'start',
        start: {
          image: { name: 'fuzz', width: 1110, height: 1484, pixelSizeUm: 1, downsamples: [1, 4] },
          modelSet: '',
          precision: '',
          options: fullOptions({ batchSize: 4 }),
        },
      },
    }).finish(),
  );
  const m = mutateMessage(r, start);
  const call = raw.segmentPixels();
  const done = collect(call);
  call.write(m.bytes);
  // Answer the first region request with a mutated answer, then hang up.
  call.once(
    'data',
    (msg: { message?: { $case: string; regionRequest?: { id: number; width: number; height: number } } }) => {
      const q = msg.message?.regionRequest;
      if (q) {
        const answer = pixelRegion(q.id, q.width, q.height, Buffer.alloc(q.width * q.height * 3, 200));
        call.write(mutateMessage(r, answer).bytes);
      }
      call.end();
    },
  );
  setTimeout(() => call.end(), 2000).unref();
  const res = await done;
  count(report.statuses, `SegmentPixels ${statusOf(res.error)}`);
  if (res.error && BAD.has(res.error.code)) {
    report.findings.push({
      phase: 'messages',
      n,
      detail: `SegmentPixels ${m.detail}`,
      problem: `${statusOf(res.error)}: ${res.error.details}`,
    });
  }
  await afterCase('messages', n, m.detail, 50);
}

test('no mutated slide or message crashes, stalls or exhausts the sidecar, or gets INTERNAL', async () => {
  const r = seeded(SEED);
  expect(await normalJob()).toBeNull();
  const sources = [CMU_SMALL, smallSlide()].map((file) => ({ file, bytes: readFileSync(file) }));

  const slidesUntil = Date.now() + SECONDS * 600;
  for (let n = 1; Date.now() < slidesUntil; n++) await slideCase(r, n, sources);
  const messagesUntil = Date.now() + SECONDS * 350;
  for (let n = 1; Date.now() < messagesUntil; n++) await messageCase(r, n, intact);
  expect(await normalJob()).toBeNull();

  // RSS flat: the last normal jobs' RSS against the first ones' (after warm-up).
  const rss = report.rssMiB;
  const early = Math.max(...rss.slice(0, Math.min(3, rss.length)));
  const late = Math.max(...rss.slice(-3));
  if (late > early * 1.25 + 64) {
    report.findings.push({ phase: 'rss', n: rss.length, detail: `${early} -> ${late} MiB`, problem: 'RSS grew' });
  }
  expect(report.findings).toEqual([]);
});
