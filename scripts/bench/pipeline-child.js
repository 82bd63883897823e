'use strict';
/* global __filename */
/**
 * Pipeline benchmark, the child processes (see run.js): one measurement each, in a fresh process so
 * that each peak RSS is that run's own. `runChild` forks this file; the child reads its config from
 * the IPC channel and sends back one result.
 */
const { execFileSync, fork } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { PerformanceObserver, performance } = require('node:perf_hooks');

const ROOT = path.resolve(__dirname, '..', '..');
const RANDOM_BATCHES = 4; // distinct random input tensors the model-alone side cycles through

function dist(dir, mod) {
  const file = path.join(dir, mod);
  if (!fs.existsSync(file + '.js')) {
    throw new Error(`${file}.js not found: build the pipeline first (npx tsc -p tsconfig.build.json)`);
  }
  return require(file);
}

// ---------------------------------------------------------------------------------------------------
// Children: one measurement each

function gcWatcher() {
  const gc = { count: 0, ms: 0 };
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gc.count++;
      gc.ms += e.duration;
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  return { gc, stop: () => obs.disconnect() };
}

const cpuSeconds = (u) => (u.user + u.system) / 1e6;
const maxRssMiB = () => process.resourceUsage().maxRSS / 1024;

function randomBatches(batchSize, patchSize) {
  // xorshift32: deterministic, cheap, values in [0, 1) like pixel / 255
  let s = 0x9e3779b9;
  const out = [];
  for (let b = 0; b < RANDOM_BATCHES; b++) {
    const t = new Float32Array(batchSize * patchSize * patchSize * 3);
    for (let i = 0; i < t.length; i++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      t[i] = (s >>> 0) / 4294967296;
    }
    out.push(t);
  }
  return out;
}

/**
 * One patch-model call on `data` ([n, p, p, 3]): through the inference seam (`model.engine`, which
 * moves the input to its thread and hands it back) or, in builds before it, `model.session` on this
 * thread. Resolves to { scores, input } (input: the array to use again; `data` may be detached).
 */
async function runPatchModel(ort, model, data, n, p) {
  if (model.engine) {
    const { output, inputs } = await model.engine.run(
      { [model.binding.input]: { data, dims: [n, p, p, 3] } },
      { output: model.binding.output, dims: [n, 2] },
    );
    return { scores: output, input: inputs[model.binding.input] };
  }
  const out = await model.session.run({ [model.binding.input]: new ort.Tensor('float32', data, [n, p, p, 3]) });
  return { scores: out[model.binding.output].data, input: data };
}

/** One untimed batch of random input, so both sides start with a warm session (arena allocated). */
async function warmUp(ort, model, batch, batchSize, patchSize) {
  const t0 = performance.now();
  const { input } = await runPatchModel(ort, model, batch, batchSize, patchSize);
  return { seconds: (performance.now() - t0) / 1000, batch: input };
}

async function childAlone(cfg) {
  const ort = require(path.join(ROOT, 'node_modules', 'onnxruntime-node'));
  const { loadModelSet } = dist(cfg.dist, 'models/model-set');
  const models = await loadModelSet(cfg.models, { provider: cfg.provider, threads: cfg.threads });
  const p = models.parameters.patchSize;
  const B = cfg.batchSize;
  const pool = randomBatches(B, p);
  const warmed = await warmUp(ort, models.patch, pool[0], B, p);
  const warm = warmed.seconds;
  pool[0] = warmed.batch;
  const stride = p * p * 3;
  const sink = new Float32Array(cfg.patches);
  const gcw = gcWatcher();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let done = 0, k = 0; done < cfg.patches; done += B, k++) {
    const n = Math.min(B, cfg.patches - done);
    const data = n === B ? pool[k % pool.length] : pool[k % pool.length].subarray(0, n * stride);
    const { scores, input } = await runPatchModel(ort, models.patch, data, n, p);
    pool[k % pool.length] = new Float32Array(input.buffer);
    for (let i = 0; i < n; i++) sink[done + i] = scores[i * 2 + models.parameters.tumourChannel];
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(process.cpuUsage(cpu0));
  gcw.stop();
  const r = { kind: 'alone', seconds, cpuSeconds: cpu, warmUpSeconds: warm, gc: gcw.gc, maxRssMiB: maxRssMiB() };
  await models.release();
  return r;
}

/** A SlideSource that counts reads and the time they take (pipeline-side instrumentation). */
function countingSource(slide) {
  const stats = { reads: 0, readMs: 0, maxInFlight: 0, batches: 0, into: 0, sampled: 0 };
  let inFlight = 0;
  const counted = async (read) => {
    const t0 = performance.now();
    inFlight++;
    if (inFlight > stats.maxInFlight) stats.maxInFlight = inFlight;
    try {
      return await read();
    } finally {
      inFlight--;
      stats.reads++;
      stats.readMs += performance.now() - t0;
    }
  };
  const source = {
    description: slide.description,
    levels: slide.levels,
    pixelSize: slide.pixelSize,
    bounds: slide.bounds,
    close: () => slide.close(),
    readRegion: (req) => counted(() => slide.readRegion(req)),
  };
  // The pipeline converts or samples pixels natively, a batch per call, when the source offers
  // readRegionsInto: forward it when this build's OpenSlide has it (an older build may not).
  if (typeof slide.readRegionsInto === 'function') {
    source.readRegionsInto = (reads, target) => {
      stats.batches++;
      for (const r of reads) stats[r.sampling ? 'sampled' : 'into']++;
      return counted(() => slide.readRegionsInto(reads, target));
    };
  }
  return { source, stats };
}

/**
 * Wraps a model's run() (its engine's, or in builds before the inference seam its session's, when
 * the event loop was blocked meanwhile) to add up the time spent inside it.
 */
function timedRun(model) {
  const stats = { calls: 0, ms: 0 };
  const target = model.engine ?? model.session;
  const run = target.run.bind(target);
  target.run = async (...args) => {
    const t0 = performance.now();
    try {
      return await run(...args);
    } finally {
      stats.calls++;
      stats.ms += performance.now() - t0;
    }
  };
  return stats;
}

async function childE2e(cfg) {
  const ort = require(path.join(ROOT, 'node_modules', 'onnxruntime-node'));
  const { OpenSlide } = dist(cfg.dist, 'slide/openslide');
  const { loadModelSet } = dist(cfg.dist, 'models/model-set');
  const { segmentSlide } = dist(cfg.dist, 'pipeline/segment');
  const tLoad = performance.now();
  const slide = await OpenSlide.open(cfg.slide);
  const models = await loadModelSet(cfg.models, { provider: cfg.provider, threads: cfg.threads });
  const loadSeconds = (performance.now() - tLoad) / 1000;
  const p = models.parameters.patchSize;
  const warm = (await warmUp(ort, models.patch, randomBatches(cfg.batchSize, p)[0], cfg.batchSize, p)).seconds;
  const rssAfterLoad = maxRssMiB();

  const { source, stats: readStats } = countingSource(slide);
  const patchRun = timedRun(models.patch);
  const refineRun = timedRun(models.refinement);
  const rssAtStage = {};
  const eluAtStage = {};
  const cpuAtStage = {};
  let elu0 = performance.eventLoopUtilization();
  let stageCpu0 = process.cpuUsage();
  let lastStage = null;
  const onProgress = (e) => {
    if (e.stage === lastStage) return;
    if (lastStage) {
      rssAtStage[lastStage] = maxRssMiB();
      eluAtStage[lastStage] = performance.eventLoopUtilization(elu0).utilization;
      cpuAtStage[lastStage] = cpuSeconds(process.cpuUsage(stageCpu0));
    }
    elu0 = performance.eventLoopUtilization();
    stageCpu0 = process.cpuUsage();
    lastStage = e.stage;
  };
  const gcw = gcWatcher();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await segmentSlide(
    source,
    models,
    { batchSize: cfg.batchSize, ...(cfg.roi ? { roi: cfg.roi } : {}) },
    { onProgress },
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(process.cpuUsage(cpu0));
  gcw.stop();
  const r = {
    kind: 'e2e',
    seconds,
    cpuSeconds: cpu,
    stageSeconds: result.summary.stageSeconds,
    stageCpuSeconds: cpuAtStage,
    patchesInferred: result.summary.patchesInferred,
    patchesTotal: result.summary.patchesTotal,
    polygons: result.summary.polygonCount,
    maxRssMiB: maxRssMiB(),
    maxRssAfterLoadMiB: rssAfterLoad,
    maxRssAfterStageMiB: rssAtStage,
    eventLoopUtilization: eluAtStage,
    loadSeconds,
    warmUpSeconds: warm,
    gc: gcw.gc,
    reads: {
      count: readStats.reads,
      meanMs: readStats.readMs / Math.max(1, readStats.reads),
      maxInFlight: readStats.maxInFlight,
      batches: readStats.batches,
      into: readStats.into,
      sampled: readStats.sampled,
      directTiles: slide.directTileReads ?? 0,
      tileCacheHits: slide.tileCacheHits ?? 0,
    },
    patchModelRun: { calls: patchRun.calls, seconds: patchRun.ms / 1000 },
    refinementRun: { calls: refineRun.calls, seconds: refineRun.ms / 1000 },
  };
  await models.release();
  await slide.close();
  return r;
}

/** Forks `file` (this one by default) with `--child kind` and resolves with the one result it sends. */
function runChild(kind, cfg, env, file = __filename) {
  return new Promise((resolve, reject) => {
    const child = fork(file, ['--child', kind], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result = null;
    child.on('message', (m) => (result = m));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (result && result.error) reject(new Error(`${kind} child: ${result.error}`));
      else if (code !== 0 || !result) reject(new Error(`${kind} child exited with ${signal ?? code}`));
      else resolve(result);
    });
    child.send(cfg);
  });
}

/** The child side of runChild: `measure(cfg)`'s result goes back to the parent. */
function childMain(measure) {
  process.once('message', async (cfg) => {
    try {
      const r = await measure(cfg);
      process.send(r, () => process.exit(0));
    } catch (err) {
      process.send({ error: err.stack || String(err) }, () => process.exit(1));
    }
  });
}

const DEFAULT_MODELS = path.join(ROOT, '.cache', 'bench-models', 'full');

/** `dir`, or the full-size reference-architecture models, generated on first use. */
function ensureModels(dir) {
  if (dir) return dir;
  if (!fs.existsSync(path.join(DEFAULT_MODELS, 'refinement_network_breast_cancer.onnx'))) {
    process.stderr.write('bench: generating the full-size reference-architecture models\n');
    execFileSync(
      '/usr/bin/python3',
      [path.join(ROOT, 'scripts', 'make_test_models.py'), '--variant', 'full', '--out', DEFAULT_MODELS],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
  }
  return DEFAULT_MODELS;
}

module.exports = { childMain, dist, ensureModels, randomBatches, runChild, runPatchModel };

if (require.main === module && process.argv[2] === '--child') {
  childMain(process.argv[3] === 'alone' ? childAlone : childE2e);
}
