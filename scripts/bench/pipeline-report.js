'use strict';
/**
 * Pipeline benchmark, the parent's statistics and report text (see run.js): medians over rounds, the
 * summary that goes to the JSON, and the printed header and per-variant report.
 */
const os = require('node:os');

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
const range = (xs) => [Math.min(...xs), Math.max(...xs)];
const f = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');

function loadAverage() {
  return os.loadavg().map((x) => Number(x.toFixed(2)));
}

function summarise(plan, alone, e2e) {
  const N = plan.patches;
  const ratios = e2e.map((e, k) => e.seconds / ((alone[k].seconds + alone[k + 1].seconds) / 2));
  const patchRatios = e2e.map((e, k) => e.stageSeconds.patches / ((alone[k].seconds + alone[k + 1].seconds) / 2));
  const cpuRatios = e2e.map((e, k) => e.cpuSeconds / ((alone[k].cpuSeconds + alone[k + 1].cpuSeconds) / 2));
  const stages = {};
  for (const s of ['tissue', 'patches', 'refinement', 'polygons'])
    stages[s] = median(e2e.map((e) => e.stageSeconds[s] ?? 0));
  const stageCpu = {};
  for (const s of ['tissue', 'patches', 'refinement', 'polygons'])
    stageCpu[s] = median(e2e.map((e) => e.stageCpuSeconds[s] ?? 0));
  const refPoly = median(e2e.map((e) => (e.stageSeconds.refinement ?? 0) + (e.stageSeconds.polygons ?? 0)));
  return {
    patches: N,
    e2eSeconds: median(e2e.map((e) => e.seconds)),
    aloneSeconds: median(alone.map((a) => a.seconds)),
    ratio: median(ratios),
    ratioRange: range(ratios),
    patchStageRatio: median(patchRatios),
    cpuRatio: median(cpuRatios),
    stageSeconds: stages,
    stageCpuSeconds: stageCpu,
    refinementPlusPolygonsSeconds: refPoly,
    patchesPerSecond: {
      patchStage: median(e2e.map((e) => N / e.stageSeconds.patches)),
      endToEnd: median(e2e.map((e) => N / e.seconds)),
      modelAlone: median(alone.map((a) => N / a.seconds)),
    },
    cpuMsPerPatch: {
      endToEnd: median(e2e.map((e) => (1000 * e.cpuSeconds) / N)),
      modelAlone: median(alone.map((a) => (1000 * a.cpuSeconds) / N)),
    },
    patchStageInsideRunSeconds: median(e2e.map((e) => e.patchModelRun.seconds)),
    patchStageOutsideRunSeconds: median(e2e.map((e) => e.stageSeconds.patches - e.patchModelRun.seconds)),
    refinementRunSeconds: median(e2e.map((e) => e.refinementRun.seconds)),
    readMeanMs: median(e2e.map((e) => e.reads.meanMs)),
    reads: median(e2e.map((e) => e.reads.count)),
    directTileReads: median(e2e.map((e) => e.reads.directTiles ?? 0)),
    tileCacheHits: median(e2e.map((e) => e.reads.tileCacheHits ?? 0)),
    readBatches: median(e2e.map((e) => e.reads.batches ?? 0)),
    readsInto: median(e2e.map((e) => e.reads.into ?? 0)),
    readsSampled: median(e2e.map((e) => e.reads.sampled ?? 0)),
    modelLoadSeconds: median(e2e.map((e) => e.loadSeconds)),
    coldFirstBatchSeconds: median(e2e.map((e) => e.warmUpSeconds)),
    gc: {
      e2eMs: median(e2e.map((e) => e.gc.ms)),
      e2eCount: median(e2e.map((e) => e.gc.count)),
      aloneMs: median(alone.map((a) => a.gc.ms)),
    },
    peakRssMiB: {
      e2e: Math.max(...e2e.map((e) => e.maxRssMiB)),
      e2eAfterLoadAndWarmUp: median(e2e.map((e) => e.maxRssAfterLoadMiB)),
      e2eAfterStage: Object.fromEntries(
        ['tissue', 'patches', 'refinement', 'polygons'].map((s) => [
          s,
          median(e2e.map((e) => e.maxRssAfterStageMiB[s] ?? NaN)),
        ]),
      ),
      modelAlone: Math.max(...alone.map((a) => a.maxRssMiB)),
    },
  };
}

function header(o, plan, loadStart, loadEnd) {
  const out = [];
  out.push('');
  out.push(
    `slide      ${plan.slide.kind}: ${plan.slide.path} (${plan.slide.width} x ${plan.slide.height} px, ${plan.slide.mpp} um/px)`,
  );
  out.push(
    `grid       ${plan.grid.rows} x ${plan.grid.cols} = ${plan.patchesTotal} patches at 10x (read level ${plan.grid.readLevel}` +
      `${plan.grid.resample ? ', resampled' : ''}); ${plan.tissuePatches} pass the tissue threshold ${plan.tissueThreshold}` +
      ` (${f((100 * plan.tissuePatches) / plan.patchesTotal, 1)} %)`,
  );
  out.push(
    `patches    ${plan.patches} inferred${plan.roi ? ` (--max-patches ${o.maxPatches}: ROI over the first tissue patches)` : ''}`,
  );
  out.push(
    `settings   provider ${o.provider}, threads ${o.threads || 'default'}, batch ${o.batchSize}, ` +
      `UV_THREADPOOL_SIZE ${o.uvThreadpool ?? process.env.UV_THREADPOOL_SIZE ?? 'default (4)'}, ${o.rounds} rounds, ${os.cpus().length} CPUs`,
  );
  out.push(`load avg   ${loadStart.join(' ')} at start, ${loadEnd.join(' ')} at end (1, 5, 15 min)`);
  return out.join('\n') + '\n';
}

function report(name, s) {
  const out = [];
  const goal = (ok) => (ok ? 'met' : 'MISSED');
  const st = (k) => `${f(s.stageSeconds[k])} s (CPU ${f(s.stageCpuSeconds[k])} s)`;
  out.push('');
  out.push(`${name}: medians over rounds`);
  out.push(`  tissue       ${st('tissue')}`);
  out.push(
    `  patches      ${st('patches')}; inside the patch model's run() ${f(s.patchStageInsideRunSeconds)} s, ` +
      `outside it ${f(s.patchStageOutsideRunSeconds)} s`,
  );
  out.push(`  refinement   ${st('refinement')}; inside the U-Net's run() ${f(s.refinementRunSeconds)} s`);
  out.push(`  polygons     ${st('polygons')}`);
  out.push(`  end to end   ${f(s.e2eSeconds)} s   model alone ${f(s.aloneSeconds)} s (${s.patches} patches)`);
  out.push(
    `  patches/s    ${f(s.patchesPerSecond.patchStage, 1)} in the patch stage, ${f(s.patchesPerSecond.endToEnd, 1)} end to end, ` +
      `${f(s.patchesPerSecond.modelAlone, 1)} model alone`,
  );
  out.push(
    `  CPU/patch    ${f(s.cpuMsPerPatch.endToEnd, 1)} ms end to end, ${f(s.cpuMsPerPatch.modelAlone, 1)} ms model alone`,
  );
  out.push(
    `  reads        ${s.reads} calls, ${s.readBatches} of them batches (${s.directTileReads} regions assembled from ` +
      `tiles decoded directly, ${s.tileCacheHits} tiles reused from the cache; natively ${s.readsInto} ` +
      `converted to floats, ${s.readsSampled} resampled)`,
  );
  out.push(
    `  GC           ${f(s.gc.e2eMs, 0)} ms in ${s.gc.e2eCount} pauses end to end, ${f(s.gc.aloneMs, 0)} ms model alone`,
  );
  out.push(
    `  not timed    opening the slide + loading the models ${f(s.modelLoadSeconds)} s; the untimed warm-up batch ` +
      `(cold session) ${f(s.coldFirstBatchSeconds)} s`,
  );
  out.push(
    `  ratio end-to-end / model alone: ${f(s.ratio, 3)} (rounds ${f(s.ratioRange[0], 3)}-${f(s.ratioRange[1], 3)})   ` +
      `goal <= 1.15: ${goal(s.ratio <= 1.15)}`,
  );
  out.push(
    `    patch stage / model alone: ${f(s.patchStageRatio, 3)}   CPU time end to end / model alone: ${f(s.cpuRatio, 3)}`,
  );
  out.push(
    `  refinement + polygons: ${f(s.refinementPlusPolygonsSeconds)} s   goal < 1.5 s: ${goal(s.refinementPlusPolygonsSeconds < 1.5)}`,
  );
  out.push(
    `  peak RSS: ${f(s.peakRssMiB.e2e, 0)} MiB end to end (after model load + warm-up ${f(s.peakRssMiB.e2eAfterLoadAndWarmUp, 0)}, ` +
      `tissue ${f(s.peakRssMiB.e2eAfterStage.tissue, 0)}, patches ${f(s.peakRssMiB.e2eAfterStage.patches, 0)}, ` +
      `refinement ${f(s.peakRssMiB.e2eAfterStage.refinement, 0)}); model alone ${f(s.peakRssMiB.modelAlone, 0)} MiB   ` +
      `goal < 1536 MiB: ${goal(s.peakRssMiB.e2e < 1536)}`,
  );
  return out.join('\n') + '\n';
}

module.exports = { f, header, loadAverage, report, summarise };
