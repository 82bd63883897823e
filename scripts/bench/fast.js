#!/usr/bin/env node
'use strict';
/**
 * `npm run bench:fast`: FastPathology's runtime (pyFAST 4.18.0 in .venv, test/reference/fast_oracle.py,
 * the H2G-Net pipeline built from FAST's process objects) with its ONNXRuntime and OpenVINO engines,
 * and `h2g segment`, on the same generated 40x slide with the same full-size models
 * (make_test_models.py --variant full), interleaved, several rounds. Each run is a fresh process
 * under /usr/bin/time (wall time, peak RSS). Prints per engine: wall time (median and range), inferred
 * patches, time per inferred patch, per-stage times (FAST's getRuntime; ours from the summary), peak
 * RSS, and the ratio ours / FAST per round, plus whether both inferred the same patches and how far
 * the heatmaps are apart.
 *
 *   npm run build:ts && npm run bench:fast -- [--rounds 3] [--size 16384] [--slide PATH]
 *                                            [--engines ONNXRuntime,OpenVINO] [--int8] [--json FILE]
 *
 * --int8 also runs `h2g segment --precision int8` each round (issue 17: int8 end to end against FAST's
 * OpenVINO): the full-size set is imported into bench-data/models-home and quantized there once
 * (`h2g models quantize --force`: random weights agree with nothing, the figure here is speed only).
 *
 * The slide (bench-data/fast40x-<size>.tif, made once): CMU-1-Small-Region replicated to size x size px
 * at 0.25 um/px, three levels at downsamples 1, 4 and 16 as Aperio scanners write (the 10x level read
 * directly; FAST's last level is size / 16 px, so FAST's artefact on one-tile pyramids plays no part and
 * both infer the same patches), JPEG Q95 without chroma subsampling (FAST's TIFF reader and OpenSlide
 * decode it alike).
 */
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const PY = process.env.H2G_FAST_PYTHON ?? path.join(ROOT, '.venv', 'bin', 'python');
const ORACLE = path.join(ROOT, 'test', 'reference', 'fast_oracle.py');
const MODELS = path.join(ROOT, '.cache', 'bench-models', 'full');
const CMU = path.join(ROOT, '..', 'shared', 'data', 'CMU-1-Small-Region.svs');

function parseArgs(argv) {
  const o = { rounds: 3, size: 16384, slide: null, engines: ['ONNXRuntime', 'OpenVINO'], int8: false, json: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--rounds') o.rounds = Number(v());
    else if (a === '--size') o.size = Number(v());
    else if (a === '--slide') o.slide = path.resolve(v());
    else if (a === '--engines') o.engines = v().split(',');
    else if (a === '--int8') o.int8 = true;
    else if (a === '--json') o.json = v();
    else throw new Error(`unknown option ${a}`);
  }
  if (!(o.rounds >= 1) || !(o.size >= 2048) || o.size % 1024 !== 0)
    throw new Error('--rounds >= 1, --size a multiple of 1024');
  return o;
}

function run(cmd, args) {
  execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
}

function makeSlide(size) {
  const out = path.join(ROOT, 'bench-data', `fast40x-${size}.tif`);
  if (fs.existsSync(out)) return out;
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const dir = fs.mkdtempSync(path.join(path.dirname(out), '.fast-slide-'));
  const p = (n) => path.join(dir, n);
  run('vips', ['extract_band', CMU, p('rgb.v'), '0', '--n', '3']);
  run('vips', ['replicate', p('rgb.v'), p('rep.v'), String(Math.ceil(size / 2220)), String(Math.ceil(size / 2967))]);
  run('vips', ['crop', p('rep.v'), p('l0.v'), '0', '0', String(size), String(size)]);
  run('vips', ['shrink', p('l0.v'), p('l1.v'), '4', '4']);
  run('vips', ['shrink', p('l1.v'), p('l2.v'), '4', '4']);
  const tile = ['--tile', '--tile-width', '256', '--tile-height', '256', '--compression', 'jpeg', '--Q', '95'];
  const res = ['--xres', '4000', '--yres', '4000', '--resunit', 'cm', '--bigtiff'];
  const levels = ['l0', 'l1', 'l2'];
  for (const l of levels) run('vips', ['tiffsave', p(`${l}.v`), p(`${l}.tif`), ...tile, ...res]);
  run('tiffcp', [
    '-m',
    '0',
    '-8',
    '-t',
    '-w',
    '256',
    '-l',
    '256',
    '-c',
    'jpeg:r:95',
    ...levels.map((l) => p(`${l}.tif`)),
    p('s.tif'),
  ]);
  for (const d of ['1', '2']) run('tiffset', ['-d', d, '-s', '254', '1', p('s.tif')]);
  fs.renameSync(p('s.tif'), out);
  fs.rmSync(dir, { recursive: true, force: true });
  return out;
}

function ensureModels() {
  if (!fs.existsSync(path.join(MODELS, 'refinement_network_breast_cancer.onnx'))) {
    run('/usr/bin/python3', [path.join(ROOT, 'scripts', 'make_test_models.py'), '--variant', 'full', '--out', MODELS]);
  }
  return MODELS;
}

/** Runs a command under GNU time; returns wall seconds, peak RSS (MiB) and its stdout. */
function timed(cmd, args, env = {}) {
  const r = spawnSync('/usr/bin/time', ['-f', 'TIME %e %M', cmd, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    env: { ...process.env, ...env },
  });
  const m = /TIME ([\d.]+) (\d+)/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`${cmd} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return { wall: Number(m[1]), rssMiB: Number(m[2]) / 1024, stdout: r.stdout };
}

function runFast(slide, models, engine, out) {
  fs.rmSync(out, { recursive: true, force: true });
  const t = timed(PY, [ORACLE, slide, models, out, '--engine', engine]);
  const info = JSON.parse(fs.readFileSync(path.join(out, 'info.json'), 'utf8'));
  const ms = (k) => (info.runtimes_ms[k] ? info.runtimes_ms[k].sum / 1000 : NaN);
  return {
    ...t,
    inferred: info.inferred,
    stages: {
      tissue: ms('tissue'),
      'create patch': ms('create patch'),
      'patch network': ms('patch network'),
      refinement: ms('refinement'),
      'patch stream (wall)': info.seconds.patches,
    },
  };
}

/** The bench's full-size set installed in its own store with an int8 sibling; returns the store. */
function ensureInt8(models, slide) {
  const home = path.join(ROOT, 'bench-data', 'models-home');
  const env = { ...process.env, H2G_MODELS_HOME: home };
  const h2g = (...args) =>
    execFileSync(process.execPath, [path.join(ROOT, 'bin', 'h2g.js'), ...args], { env, stdio: 'inherit' });
  if (!fs.existsSync(path.join(home, 'benchfull-int8'))) {
    if (!fs.existsSync(path.join(home, 'benchfull'))) h2g('models', 'import', models, '--name', 'benchfull');
    h2g('models', 'quantize', 'benchfull', '--calibrate', slide, CMU, '--force');
  }
  return home;
}

function runOurs(slide, models, out, precision = 'float32', home = undefined) {
  fs.mkdirSync(out, { recursive: true });
  const heat = path.join(out, 'heatmap.npy');
  const t = timed(
    process.execPath,
    [
      path.join(ROOT, 'bin', 'h2g.js'),
      'segment',
      slide,
      '-o',
      path.join(out, 'out.geojson'),
      '--models',
      models,
      '--save-heatmap',
      heat,
      '--precision',
      precision,
    ],
    home ? { H2G_MODELS_HOME: home } : {},
  );
  const inferred = Number(/patches inferred: (\d+)/.exec(t.stdout)?.[1]);
  const stages = {};
  for (const [, k, v] of (/time: .*?\((.*)\)/.exec(t.stdout)?.[1] ?? '').matchAll(/(\w+) ([\d.]+) s/g))
    stages[k] = Number(v);
  return { ...t, inferred, stages };
}

function readNpy(file) {
  const buf = fs.readFileSync(file);
  const len = buf.readUInt16LE(8);
  return new Float32Array(new Uint8Array(buf.subarray(10 + len)).buffer);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

function main() {
  const o = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(PY)) throw new Error(`${PY} missing: run scripts/setup-python.sh`);
  const slide = o.slide ?? makeSlide(o.size);
  const models = ensureModels();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'h2g-bench-fast-'));
  const cpu = fs.readFileSync('/proc/cpuinfo', 'utf8');
  console.log(
    `slide ${slide}; models ${models}; ${os.cpus().length} CPUs (${os.cpus()[0].model}); ` +
      `avx512_bf16: ${/\bavx512_bf16\b/.test(cpu) ? 'yes (OpenVINO runs bf16)' : 'no (OpenVINO runs float32)'}; load ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
  );
  const home = o.int8 ? ensureInt8(models, slide) : undefined;
  const runs = { ours: [], ...(o.int8 ? { 'ours int8': [] } : {}) };
  for (const e of o.engines) runs[`FAST ${e}`] = [];
  for (let r = 0; r < o.rounds; r++) {
    for (const e of o.engines) {
      const x = runFast(slide, models, e, path.join(tmp, `fast-${e}`));
      runs[`FAST ${e}`].push(x);
      console.log(
        `round ${r + 1} FAST ${e}: ${x.wall.toFixed(2)} s, ${x.inferred} patches, ${x.rssMiB.toFixed(0)} MiB`,
      );
    }
    const x = runOurs(slide, models, path.join(tmp, 'ours'));
    runs.ours.push(x);
    console.log(
      `round ${r + 1} h2g segment: ${x.wall.toFixed(2)} s, ${x.inferred} patches, ${x.rssMiB.toFixed(0)} MiB`,
    );
    if (home) {
      const q = runOurs(slide, models, path.join(tmp, 'ours-int8'), 'int8', home);
      runs['ours int8'].push(q);
      console.log(`round ${r + 1} h2g segment --precision int8: ${q.wall.toFixed(2)} s, ${q.rssMiB.toFixed(0)} MiB`);
    }
  }
  // Same patches and heatmap? (the last round of each)
  const ref = o.engines.includes('ONNXRuntime') ? 'ONNXRuntime' : o.engines[0];
  const fh = readNpy(path.join(tmp, `fast-${ref}`, 'heatmap.npy'));
  const oh = readNpy(path.join(tmp, 'ours', 'heatmap.npy'));
  let sameCells = fh.length === oh.length;
  let maxErr = 0;
  for (let i = 0; sameCells && i < fh.length; i++) {
    if (fh[i] > 0 !== oh[i] > 0) sameCells = false;
    maxErr = Math.max(maxErr, Math.abs(fh[i] - oh[i]));
  }
  console.log(
    `\ninferred patches identical to FAST ${ref}: ${sameCells}; heatmap max |error| ${maxErr.toExponential(2)}`,
  );
  console.log('\n| run | wall s (median; range) | inferred | ms / inferred patch | stages s (median) | peak RSS MiB |');
  console.log('|---|---|---:|---:|---|---:|');
  for (const [name, xs] of Object.entries(runs)) {
    const walls = xs.map((x) => x.wall);
    const stages = Object.keys(xs[0].stages)
      .map((k) => `${k} ${median(xs.map((x) => x.stages[k])).toFixed(2)}`)
      .join(', ');
    console.log(
      `| ${name} | ${median(walls).toFixed(2)} (${Math.min(...walls).toFixed(2)}-${Math.max(...walls).toFixed(2)}) | ` +
        `${xs[0].inferred} | ${((1000 * median(walls)) / xs[0].inferred).toFixed(1)} | ${stages} | ${Math.max(...xs.map((x) => x.rssMiB)).toFixed(0)} |`,
    );
  }
  for (const ours of Object.keys(runs).filter((k) => k.startsWith('ours')))
    for (const e of o.engines) {
      const ratios = runs[ours].map((x, i) => x.wall / runs[`FAST ${e}`][i].wall);
      console.log(
        `ratio ${ours} / FAST ${e} (wall, per round): ${ratios.map((x) => x.toFixed(3)).join(', ')}; median ${median(ratios).toFixed(3)}`,
      );
    }
  if (o.json) fs.writeFileSync(o.json, JSON.stringify({ slide, runs }, null, 1));
  fs.rmSync(tmp, { recursive: true, force: true });
}

main();
