#!/usr/bin/env node
'use strict';
/* global __filename */
/**
 * int8 benchmark (issue 17): patches per second of a float32 patch model and of its int8 sibling made
 * by `h2g models quantize`, in onnxruntime-node as `h2g segment` loads them (dist's loadModelSet), at
 * the same batch size and thread count, measured in the same process batch by batch in alternating
 * order (f32, int8, then int8, f32, ...), so that the machine's load drifts over both alike.
 *
 *   npx tsc -p tsconfig.build.json && npm run bench:int8 -- [options]
 *
 * Without --models it builds its own pair once (cached under .cache/): the full-size fitted phantom
 * model of scripts/make_fitted_models.py (the published MobileNetV2's architecture and compute), then
 * `h2g models quantize` on phantom slides (scripts/make_phantom_slide.py), which prints its agreement
 * table. Speed does not depend on the weights' values: this is the published network's cost.
 *
 * Options (defaults in brackets):
 *   --models NAME|DIR   a float32 set (installed name or directory); its int8 sibling is found as
 *                       --precision int8 finds it (installed in $H2G_MODELS_HOME) [the phantom pair]
 *   --rounds N          timed batches per model [20]
 *   --batch-size N      patches per inference call [16]
 *   --threads N         onnxruntime intra-op threads (0 = chosen for the machine) [2]
 *   --dist DIR          compiled sources [dist]
 *   --json FILE         also write the figures as JSON
 */
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { integerArg, printHeaderAndExit } = require('./args');
const { performance } = require('node:perf_hooks');
const { dist, randomBatches, runPatchModel } = require('./pipeline-child');
const { f, loadAverage } = require('./pipeline-report');

const ROOT = path.resolve(__dirname, '..', '..');
const HOME = path.join(ROOT, '.cache', 'bench-int8', 'models');
const FITTED = path.join(ROOT, '.cache', 'test-models', 'fitted-planted');
const PHANTOM = (seed) => path.join(ROOT, '.cache', 'test-data', `phantom-large-${seed}.tif`);
const WARM_UP = 3;

function parseArgs(argv) {
  const o = { models: null, rounds: 20, batchSize: 16, threads: 2, dist: path.join(ROOT, 'dist'), json: null };
  for (let i = 2; i < argv.length; i += 2) {
    const [k, v] = [argv[i], argv[i + 1]];
    if (k === '--help' || k === '-h') printHeaderAndExit(__filename);
    if (v === undefined) throw new Error(`missing value for ${k}`);
    if (k === '--models') o.models = v;
    else if (k === '--rounds') o.rounds = integerArg(k, v, 1);
    else if (k === '--batch-size') o.batchSize = integerArg(k, v, 1);
    else if (k === '--threads') o.threads = integerArg(k, v, 0);
    else if (k === '--dist') o.dist = path.resolve(v);
    else if (k === '--json') o.json = path.resolve(v);
    else throw new Error(`unknown option ${k} (see --help)`);
  }
  return o;
}

const run = (cmd, args, env = {}) =>
  execFileSync(cmd, args, {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });

/** The phantom pair: fitted float32 model imported as 'planted', quantized into 'planted-int8'. */
function ensurePhantomPair() {
  const env = { H2G_MODELS_HOME: HOME, H2G_LOG_LEVEL: 'warn' };
  if (fs.existsSync(path.join(HOME, 'planted-int8', 'h2g-models.json')))
    return { dir: path.join(HOME, 'planted'), env };
  const venv = path.join(ROOT, '.venv', 'bin', 'python');
  if (!fs.existsSync(venv)) throw new Error('the project Python environment is missing: bash scripts/setup-python.sh');
  if (!fs.existsSync(path.join(FITTED, 'refinement_network_breast_cancer.onnx'))) {
    process.stderr.write('bench: generating the fitted full-size phantom models\n');
    run(venv, [path.join(ROOT, 'scripts', 'make_fitted_models.py'), '--out', FITTED]);
  }
  for (const seed of [1, 2, 3]) {
    if (fs.existsSync(PHANTOM(seed))) continue;
    fs.mkdirSync(path.dirname(PHANTOM(seed)), { recursive: true });
    const tmp = `${PHANTOM(seed)}.partial.tif`;
    run('/usr/bin/python3', [
      path.join(ROOT, 'scripts', 'make_phantom_slide.py'),
      '--seed',
      String(seed),
      '--size',
      '3072',
      '--out',
      tmp,
    ]);
    fs.renameSync(tmp, PHANTOM(seed));
  }
  const h2g = [path.join(ROOT, 'bin', 'h2g.js')];
  run(process.execPath, [...h2g, 'models', 'import', FITTED, '--name', 'planted'], env);
  process.stderr.write('bench: h2g models quantize planted (once; its agreement table follows)\n');
  const args = ['models', 'quantize', 'planted', '--calibrate', PHANTOM(1), '--validate', PHANTOM(2), PHANTOM(3)];
  process.stdout.write(run(process.execPath, [...h2g, ...args, '--patches', '128'], env));
  return { dir: path.join(HOME, 'planted'), env };
}

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
};

async function main() {
  const o = parseArgs(process.argv);
  const pair = o.models ? { dir: null, env: {} } : ensurePhantomPair();
  Object.assign(process.env, pair.env);
  const { resolveModelDirectory } = dist(o.dist, 'models/select');
  const { withPrecision } = dist(o.dist, 'models/precision');
  const { loadModelSet } = dist(o.dist, 'models/model-set');
  const ort = require(path.join(ROOT, 'node_modules', 'onnxruntime-node'));
  const f32Dir = pair.dir ?? (await resolveModelDirectory({ explicit: o.models }));
  const i8Dir = await withPrecision(f32Dir, 'int8');
  const session = { provider: 'cpu', threads: o.threads };
  const sets = [await loadModelSet(f32Dir, session), await loadModelSet(i8Dir, session)];
  const p = sets[0].parameters.patchSize;
  // The batch moves to the inference thread and back with every call (the pipeline's path).
  let input = randomBatches(o.batchSize, p)[0];
  const once = async (set) => {
    const t0 = performance.now();
    ({ input } = await runPatchModel(ort, set.patch, input, o.batchSize, p));
    return (performance.now() - t0) / 1000;
  };
  const loadStart = loadAverage();
  for (let i = 0; i < WARM_UP; i++) for (const s of sets) await once(s);
  const seconds = [[], []];
  for (let r = 0; r < o.rounds; r++) {
    const order = r % 2 ? [1, 0] : [0, 1];
    for (const k of order) seconds[k].push(await once(sets[k]));
  }
  const loadEnd = loadAverage();
  const rates = seconds.map((ts) => ts.map((t) => o.batchSize / t));
  const paired = seconds[0].map((t, r) => t / seconds[1][r]);
  const summary = {
    machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cpus: os.cpus().length, loadStart, loadEnd },
    onnxruntimeNode: require(path.join(ROOT, 'node_modules', 'onnxruntime-node', 'package.json')).version,
    batchSize: o.batchSize,
    threads: sets[0].threads,
    rounds: o.rounds,
    models: sets.map((s, k) => ({
      name: s.name,
      precision: s.precision,
      file: s.patch.info.path,
      patchesPerSecond: { median: quantile(rates[k], 0.5), p10: quantile(rates[k], 0.1), p90: quantile(rates[k], 0.9) },
    })),
    ratio: { pairedMedian: quantile(paired, 0.5), pairedMin: Math.min(...paired), pairedMax: Math.max(...paired) },
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
  };
  summary.ratio.ofMedians = summary.models[1].patchesPerSecond.median / summary.models[0].patchesPerSecond.median;
  const lines = [
    '',
    `int8 patch model benchmark: onnxruntime-node ${summary.onnxruntimeNode}, batch ${o.batchSize}, ` +
      `${summary.threads || 'default'} threads, ${o.rounds} rounds alternating (+${WARM_UP} warm-up)`,
    `machine    ${summary.machine.cpu}, ${summary.machine.cpus} CPUs; load average ${loadStart.join(' ')} -> ${loadEnd.join(' ')}`,
    ...summary.models.map(
      (m) =>
        `${m.precision.padEnd(8)}   ${m.name}: ${f(m.patchesPerSecond.median, 1)} patches/s median ` +
        `(p10 ${f(m.patchesPerSecond.p10, 1)}, p90 ${f(m.patchesPerSecond.p90, 1)})`,
    ),
    `ratio      int8 / float32 patches/s: ${f(summary.ratio.pairedMedian)}x median of paired rounds ` +
      `(${f(summary.ratio.pairedMin)}-${f(summary.ratio.pairedMax)}), ${f(summary.ratio.ofMedians)}x of medians (goal >= 1.70x)`,
    `peak RSS   ${f(summary.peakRssMiB, 0)} MiB (both models in one process)`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (o.json) fs.writeFileSync(o.json, `${JSON.stringify(summary, null, 2)}\n`);
  await Promise.all(sets.map((s) => s.release()));
}

main().catch((err) => {
  process.stderr.write(`bench:int8: ${err.message}\n`);
  process.exit(1);
});
