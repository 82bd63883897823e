#!/usr/bin/env node
'use strict';
/* global performance, setInterval, setTimeout, clearInterval */
/**
 * Load benchmark for `h2g serve`, loopback only, bounded in job count and wall time.
 *
 *   npm run build:ts && node scripts/bench/load.js [options]
 *
 * Reports: the ratio of one Segment call's latency (warm server) to `h2g segment` on the same slide;
 * jobs/s and latency p50/p90/p99 at each client concurrency with the server's peak RSS; and the
 * server's RSS after 20 and after N sequential jobs (the leak check: goal within 10%).
 *
 * Options (defaults in brackets):
 *   --slide PATH            slide for every phase [../shared/data/CMU-1-Small-Region.svs]
 *   --models DIR            model directory [tiny test models generated into .cache/bench-models]
 *   --server-concurrent N   the server's --max-concurrent [1, its default]
 *   --server-threads N      the server's --threads (onnxruntime threads per call; 0 = all cores) [0]
 *   --concurrency LIST      client concurrency levels [1,2,4,8]
 *   --jobs-per-level N      jobs at each level [max(8, 2 x level)]
 *   --compare-runs N        runs of h2g segment and of Segment for the ratio, interleaved [5]
 *   --rss-jobs N            sequential jobs for the RSS check (RSS is read after 20 and after N) [200]
 *   --max-seconds S         stop every phase once this much time has passed overall [1200]
 *   --json FILE             also write the figures as JSON
 */
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'h2g.js');
const DIST_CLIENT = path.join(ROOT, 'dist', 'generated', 'h2gnet', 'v1', 'segmentation.js');

function parseArgs(argv) {
  const o = {
    slide: path.resolve(ROOT, '..', 'shared', 'data', 'CMU-1-Small-Region.svs'),
    models: null,
    serverConcurrent: 1,
    serverThreads: 0,
    concurrency: [1, 2, 4, 8],
    jobsPerLevel: null,
    compareRuns: 5,
    rssJobs: 200,
    maxSeconds: 1200,
    json: null,
  };
  for (let i = 2; i < argv.length; i += 2) {
    const [k, v] = [argv[i], argv[i + 1]];
    if (v === undefined) throw new Error(`missing value for ${k}`);
    if (k === '--slide') o.slide = path.resolve(v);
    else if (k === '--models') o.models = path.resolve(v);
    else if (k === '--server-concurrent') o.serverConcurrent = Number(v);
    else if (k === '--server-threads') o.serverThreads = Number(v);
    else if (k === '--concurrency') o.concurrency = v.split(',').map(Number);
    else if (k === '--jobs-per-level') o.jobsPerLevel = Number(v);
    else if (k === '--compare-runs') o.compareRuns = Number(v);
    else if (k === '--rss-jobs') o.rssJobs = Number(v);
    else if (k === '--max-seconds') o.maxSeconds = Number(v);
    else if (k === '--json') o.json = path.resolve(v);
    else throw new Error(`unknown option ${k}`);
  }
  return o;
}

function ensureModels(dir) {
  if (dir) return dir;
  const out = path.join(ROOT, '.cache', 'bench-models', 'tiny');
  if (!fs.existsSync(path.join(out, 'refinement_network_breast_cancer.onnx'))) {
    execFileSync(
      '/usr/bin/python3',
      [path.join(ROOT, 'scripts', 'make_test_models.py'), '--variant', 'tiny', '--out', out],
      {
        stdio: 'ignore',
      },
    );
  }
  return out;
}

/** VmRSS (current) and VmHWM (peak so far) of a process, in MiB. */
function rssOf(pid) {
  const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)[1]);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const median = (xs) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );
const round = (x, d = 3) => Number(x.toFixed(d));

function startServer(models, serverConcurrent, serverThreads) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        BIN,
        'serve',
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--models',
        models,
        '--max-concurrent',
        String(serverConcurrent),
        '--max-queue',
        '1000',
        '--threads',
        String(serverThreads),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, H2G_LOG_LEVEL: 'warn' } },
    );
    let out = '';
    child.stderr.on('data', (d) => process.stderr.write(d));
    child.stdout.on('data', (d) => {
      out += d;
      const m = /READY port=(\d+)/.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code} before READY`)));
  });
}

function segmentOnce(client, slidePath) {
  const { SegmentRequest } = require(DIST_CLIENT);
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let result = null;
    const call = client.segment(SegmentRequest.fromPartial({ slidePath }));
    call.on('data', (e) => {
      if (e.event && e.event.$case === 'result') result = e.event.result;
    });
    call.on('error', reject);
    call.on('end', () => {
      if (!result) return reject(new Error('no result'));
      resolve({ seconds: (performance.now() - t0) / 1000, pipelineSeconds: result.summary.totalSeconds });
    });
  });
}

function cliOnce(slide, models) {
  const t0 = performance.now();
  const out = execFileSync(
    process.execPath,
    [BIN, 'segment', slide, '-m', models, '-o', path.join(require('node:os').tmpdir(), 'h2g-bench.geojson')],
    {
      encoding: 'utf8',
      env: { ...process.env, H2G_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  const m = /time:\s+([\d.]+) s/.exec(out);
  return { wallSeconds: (performance.now() - t0) / 1000, pipelineSeconds: m ? Number(m[1]) : NaN };
}

async function main() {
  const o = parseArgs(process.argv);
  if (!fs.existsSync(DIST_CLIENT)) throw new Error('dist/ is missing: run npm run build:ts first');
  const grpc = require('@grpc/grpc-js');
  const { SegmentationClient } = require(DIST_CLIENT);
  const models = ensureModels(o.models);
  const start = performance.now();
  const timeLeft = () => o.maxSeconds - (performance.now() - start) / 1000;
  const report = {
    slide: o.slide,
    models,
    serverConcurrent: o.serverConcurrent,
    serverThreads: o.serverThreads,
    cpus: require('node:os').cpus().length,
  };

  const { child, port } = await startServer(models, o.serverConcurrent, o.serverThreads);
  const client = new SegmentationClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  let peak = 0;
  const sampler = setInterval(() => {
    try {
      peak = Math.max(peak, rssOf(child.pid).rss);
    } catch {
      /* the server is exiting */
    }
  }, 50);
  try {
    await segmentOnce(client, o.slide); // warm-up: model load, JIT
    report.rssAfterWarmupMiB = round(rssOf(child.pid).rss, 1);

    // 1. One Segment call vs h2g segment on the same slide (each run alone on the machine).
    const cli = [];
    const calls = [];
    for (let i = 0; i < o.compareRuns && timeLeft() > 0; i++) {
      cli.push(cliOnce(o.slide, models));
      calls.push(await segmentOnce(client, o.slide));
    }
    // Medians; the minima too, since other load on the machine only ever adds time.
    const cliWall = median(cli.map((c) => c.wallSeconds));
    const cliPipeline = median(cli.map((c) => c.pipelineSeconds));
    const segment = median(calls.map((c) => c.seconds));
    const minCli = Math.min(...cli.map((c) => c.pipelineSeconds));
    const minSegment = Math.min(...calls.map((c) => c.seconds));
    report.compare = {
      runs: calls.length,
      segmentCallSeconds: round(segment),
      minSegmentCallSeconds: round(minSegment),
      minCliPipelineSeconds: round(minCli),
      ratioOfMinima: round(minSegment / minCli),
      serverPipelineSeconds: round(median(calls.map((c) => c.pipelineSeconds))),
      cliPipelineSeconds: round(cliPipeline),
      cliWallSeconds: round(cliWall),
      ratioToCliPipeline: round(segment / cliPipeline),
      ratioToCliWall: round(segment / cliWall),
    };
    console.error(`compare: ${JSON.stringify(report.compare)}`);

    // 2. Throughput and latency under concurrent clients.
    report.levels = [];
    for (const c of o.concurrency) {
      if (timeLeft() <= 0) break;
      const jobs = o.jobsPerLevel ?? Math.max(8, 2 * c);
      peak = rssOf(child.pid).rss;
      const latencies = [];
      let next = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: c }, async () => {
          while (next < jobs && timeLeft() > 0) {
            next++;
            latencies.push((await segmentOnce(client, o.slide)).seconds);
          }
        }),
      );
      const wall = (performance.now() - t0) / 1000;
      const sorted = latencies.sort((a, b) => a - b);
      const level = {
        clients: c,
        jobs: sorted.length,
        jobsPerSecond: round(sorted.length / wall),
        p50: round(percentile(sorted, 50)),
        p90: round(percentile(sorted, 90)),
        p99: round(percentile(sorted, 99)),
        peakRssMiB: round(peak, 1),
      };
      report.levels.push(level);
      console.error(`level: ${JSON.stringify(level)}`);
    }

    // 3. RSS after 20 and after N sequential jobs (a leak grows with the count).
    const rssAt = {};
    let done = 0;
    for (; done < o.rssJobs && timeLeft() > 0; done++) {
      await segmentOnce(client, o.slide);
      if (done + 1 === 20 || done + 1 === o.rssJobs) {
        await new Promise((r) => setTimeout(r, 500));
        rssAt[done + 1] = round(rssOf(child.pid).rss, 1);
        console.error(`rss after ${done + 1} sequential jobs: ${rssAt[done + 1]} MiB`);
      }
    }
    report.rss = { sequentialJobs: done, afterMiB: rssAt, peakMiB: round(rssOf(child.pid).hwm, 1) };
    if (rssAt[20] && rssAt[done] && done > 20)
      report.rss.growthPercent = round((100 * (rssAt[done] - rssAt[20])) / rssAt[20], 1);
    report.truncated = timeLeft() <= 0;
  } finally {
    clearInterval(sampler);
    client.close();
    child.kill('SIGTERM');
    report.serverExitCode = await new Promise((r) => child.on('exit', r));
  }
  report.totalSeconds = round((performance.now() - start) / 1000, 1);
  const text = JSON.stringify(report, null, 2);
  process.stdout.write(`${text}\n`);
  if (o.json) fs.writeFileSync(o.json, `${text}\n`);
}

main().catch((err) => {
  process.stderr.write(`bench/load: ${err.stack || err}\n`);
  process.exit(1);
});
