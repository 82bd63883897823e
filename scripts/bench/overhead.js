'use strict';
/**
 * Fixed-overhead benchmark (issue 17, "no fixed overhead on small slides"): the whole `h2g segment`
 * command, from spawning its process to its exit (module loading, model loading, slide open, tissue,
 * patches, refinement, polygons, writing the GeoJSON), against the patch model alone on the same
 * number of patches (loaded and warmed up first, so only inference is timed), on the dense bench
 * slide (4,096 tissue patches) and on a sparse one of the same geometry with 1,024 tissue patches
 * (scripts/bench/make-bench-slide.sh --kind sparse1k), all in one run: per slide and round the order
 * is alone, cli, alone, each cli run compared with the mean of the model-alone runs either side.
 * Medians and ranges over rounds; peak RSS of each process (GNU time's %M).
 *
 *   npx tsc -p tsconfig.build.json && npm run bench -- --overhead [options]
 *
 * Options: --rounds N [2]; --slides dense,sparse1k [both]; --batch-size N [16]; --threads N [0];
 * --models DIR [.cache/bench-models/full]; --dist DIR [dist]; --compare DIR (another build's CLI,
 * run after --dist's in every round; e.g. main's, for before/after); --json FILE.
 *
 * `--startup`: instead, where the time of `h2g segment` on a one-patch slide goes (all of it fixed
 * overhead): `node -e 0`, loading the CLI's modules for `segment`, then the CLI process itself (first
 * log line, tissue start, models ready, stages, exit), --rounds times per build [5].
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { ensureModels, runChild } = require('./pipeline-child');
const { f, loadAverage } = require('./pipeline-report');

const ROOT = path.resolve(__dirname, '..', '..');
const SLIDES = {
  dense: path.join(ROOT, 'bench-data', 'dense40x.tif'),
  sparse1k: path.join(ROOT, 'bench-data', 'sparse1k40x.tif'),
};

function parseArgs(argv) {
  const o = {
    rounds: 2,
    slides: ['sparse1k', 'dense'],
    batchSize: 16,
    threads: 0,
    models: null,
    dist: path.join(ROOT, 'dist'),
    compare: [],
    json: null,
    startup: false,
  };
  if (argv[0] === '--startup') {
    o.startup = true;
    o.rounds = 5;
    argv = argv.slice(1);
  }
  for (let i = 0; i < argv.length; i += 2) {
    const [k, v] = [argv[i], argv[i + 1]];
    if (v === undefined) throw new Error(`missing value for ${k}`);
    if (k === '--rounds') o.rounds = Number(v);
    else if (k === '--slides') o.slides = v.split(',');
    else if (k === '--batch-size') o.batchSize = Number(v);
    else if (k === '--threads') o.threads = Number(v);
    else if (k === '--models') o.models = path.resolve(v);
    else if (k === '--dist') o.dist = path.resolve(v);
    else if (k === '--compare') o.compare.push(path.resolve(v));
    else if (k === '--json') o.json = path.resolve(v);
    else throw new Error(`unknown option ${k}`);
  }
  for (const s of o.slides) if (!SLIDES[s]) throw new Error(`--slides: unknown slide '${s}' (dense, sparse1k)`);
  if (!(Number.isInteger(o.rounds) && o.rounds >= 1)) throw new Error('--rounds must be an integer >= 1');
  return o;
}

/** The stage times of the CLI's summary line: `time: 3.08 s (tissue 0.49 s, patches 0.04 s, ...)`. */
function parseSummary(text) {
  const m = /time:\s+([\d.]+) s \(([^)]*)\)/.exec(text);
  const stages = {};
  for (const part of (m?.[2] ?? '').split(', ')) {
    const [name, value] = part.split(' ');
    if (name) stages[name] = Number(value);
  }
  const patches = /patches inferred: (\d+)/.exec(text);
  return { pipelineSeconds: m ? Number(m[1]) : NaN, stages, patches: patches ? Number(patches[1]) : NaN };
}

/**
 * One `h2g segment` process of build `dist`, under GNU time (peak RSS). Returns the wall time from
 * spawn to exit, the time to its first log line, the model load, and the summary's stage times.
 */
function runCli(dist, slide, o) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'h2g-overhead-'));
  const timeFile = path.join(tmp, 'time');
  const launcher = `require(${JSON.stringify(path.join(dist, 'cli', 'main.js'))}).main(['node', 'h2g', ...process.argv.slice(1)])`;
  const args = ['-f', '%e %M', '-o', timeFile, process.execPath, '-e', launcher, 'segment', slide];
  args.push('-o', path.join(tmp, 'out.geojson'), '--models', o.models, '--batch-size', String(o.batchSize));
  args.push('--threads', String(o.threads));
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn('/usr/bin/time', args, { env: { ...process.env, H2G_LOG_LEVEL: 'info' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      const seconds = (Date.now() - t0) / 1000;
      if (code !== 0) return reject(new Error(`h2g segment exited with ${code}: ${stderr.slice(-2000)}`));
      const [, rssKb] = fs.readFileSync(timeFile, 'utf8').trim().split(/\s+/).map(Number);
      const lines = stderr
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l));
      const loaded = lines.find((l) => l.msg === 'models loaded');
      const firstTissue = lines.find((l) => l.msg === 'stage tissue');
      fs.rmSync(tmp, { recursive: true, force: true });
      resolve({
        kind: 'cli',
        seconds,
        maxRssMiB: rssKb / 1024,
        firstLogSeconds: lines.length ? (lines[0].time - t0) / 1000 : NaN,
        tissueStartSeconds: firstTissue ? (firstTissue.time - t0) / 1000 : NaN,
        modelLoadMs: loaded?.ms ?? NaN,
        modelsReadySeconds: loaded ? (loaded.time - t0) / 1000 : NaN,
        ...parseSummary(stdout),
      });
    });
  });
}

const median = (xs) => {
  const s = [...xs].filter(Number.isFinite).sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};

function summarise(alone, cli) {
  const ratios = cli.map((c, k) => c.seconds / ((alone[k].seconds + alone[k + 1].seconds) / 2));
  const pick = (key) => median(cli.map((c) => c[key]));
  const stage = (s) => median(cli.map((c) => c.stages[s]));
  return {
    ratio: median(ratios),
    ratioRange: [Math.min(...ratios), Math.max(...ratios)],
    cliSeconds: pick('seconds'),
    aloneSeconds: median(alone.map((a) => a.seconds)),
    overheadSeconds: median(cli.map((c, k) => c.seconds - (alone[k].seconds + alone[k + 1].seconds) / 2)),
    firstLogSeconds: pick('firstLogSeconds'),
    tissueStartSeconds: pick('tissueStartSeconds'),
    modelsReadySeconds: pick('modelsReadySeconds'),
    modelLoadMs: pick('modelLoadMs'),
    stages: Object.fromEntries(['tissue', 'patches', 'refinement', 'polygons'].map((s) => [s, stage(s)])),
    maxRssMiB: { cli: Math.max(...cli.map((c) => c.maxRssMiB)), alone: Math.max(...alone.map((a) => a.maxRssMiB)) },
  };
}

function report(slide, patches, label, s) {
  return (
    `${slide} (${patches} patches) ${label}: end to end / patch model alone = ${f(s.ratio, 3)} ` +
    `[${f(s.ratioRange[0], 3)}-${f(s.ratioRange[1], 3)}]; cli ${f(s.cliSeconds)} s, alone ${f(s.aloneSeconds)} s, ` +
    `overhead ${f(s.overheadSeconds)} s; first log line ${f(s.firstLogSeconds)} s, tissue starts ` +
    `${f(s.tissueStartSeconds)} s, models ready ${f(s.modelsReadySeconds)} s (load ${f(s.modelLoadMs, 0)} ms); ` +
    `stages ${Object.entries(s.stages)
      .map(([k, v]) => `${k} ${f(v)}`)
      .join(', ')} s; peak RSS cli ${f(s.maxRssMiB.cli, 0)} MiB, alone ${f(s.maxRssMiB.alone, 0)} MiB\n`
  );
}

/** Seconds of a `node` process running `code`, wall from spawn to exit. */
function nodeSeconds(args) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', () => resolve({ seconds: (Date.now() - t0) / 1000, out: out.trim() }));
  });
}

async function startup(o, variants) {
  const { ensureSlide } = require('./run');
  const slide = ensureSlide(null, 'one-patch');
  const runs = variants.map(() => ({ bare: [], modulesMs: [], cli: [] }));
  for (let k = 0; k < o.rounds; k++) {
    for (let v = 0; v < variants.length; v++) {
      const r = runs[v];
      r.bare.push((await nodeSeconds(['-e', '0'])).seconds);
      const main = JSON.stringify(path.join(variants[v], 'cli', 'main.js'));
      const seg = JSON.stringify(path.join(variants[v], 'cli', 'segment.js'));
      const code = `const t = performance.now(); require(${main}); require(${seg}); console.log(performance.now() - t)`;
      r.modulesMs.push(Number((await nodeSeconds(['-e', code])).out));
      r.cli.push(await runCli(variants[v], slide, o));
      process.stderr.write(`overhead: startup [${v}] round ${k + 1}: ${f(r.cli.at(-1).seconds)} s\n`);
    }
  }
  let text = `h2g segment on a one-patch slide, ${o.rounds} rounds, load average ${loadAverage().join(' ')}\n`;
  variants.forEach((dir, v) => {
    const r = runs[v];
    const m = (key) => median(r.cli.map((c) => c[key]));
    const st = (s) => median(r.cli.map((c) => c.stages[s]));
    text +=
      `[${v}] ${path.relative(ROOT, dir) || '.'}: node -e 0 ${f(median(r.bare))} s; CLI modules ${f(median(r.modulesMs), 0)} ms; ` +
      `first log line ${f(m('firstLogSeconds'))} s, tissue starts ${f(m('tissueStartSeconds'))} s, models ready ` +
      `${f(m('modelsReadySeconds'))} s (load ${f(m('modelLoadMs'), 0)} ms); tissue ${f(st('tissue'))}, patches ` +
      `${f(st('patches'))}, refinement ${f(st('refinement'))}, polygons ${f(st('polygons'))} s; exit ${f(m('seconds'))} s ` +
      `(range ${f(Math.min(...r.cli.map((c) => c.seconds)))}-${f(Math.max(...r.cli.map((c) => c.seconds)))}); ` +
      `peak RSS ${f(Math.max(...r.cli.map((c) => c.maxRssMiB)), 0)} MiB\n`;
  });
  process.stdout.write(text);
  return runs;
}

async function main(argv) {
  const { ensureSlide } = require('./run');
  const o = parseArgs(argv);
  o.models = ensureModels(o.models);
  if (o.startup) {
    const runs = await startup(o, [o.dist, ...o.compare]);
    if (o.json) fs.writeFileSync(o.json, JSON.stringify({ options: o, runs }, null, 2) + '\n');
    return;
  }
  const variants = [o.dist, ...o.compare];
  const loadStart = loadAverage();
  const out = { date: new Date().toISOString(), cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, slides: {} };
  let text = '';
  for (const kind of o.slides) {
    const slide = ensureSlide(null, kind);
    const { plan } = require('./run');
    const p = await plan({ slide, models: o.models, dist: o.dist, slideKind: kind, maxPatches: null });
    const cfg = { dist: o.dist, models: o.models, provider: 'cpu', threads: o.threads, batchSize: o.batchSize };
    Object.assign(cfg, { slide, patches: p.patches, roi: null });
    const alone = [];
    const cli = variants.map(() => []);
    const step = async (label, run, into) => {
      const r = await run();
      into.push(r);
      process.stderr.write(
        `overhead: ${kind} ${label.padEnd(8)} ${f(r.seconds)} s, peak RSS ${f(r.maxRssMiB, 0)} MiB, load ${loadAverage()[0]}\n`,
      );
    };
    for (let k = 0; k < o.rounds; k++) {
      await step('alone', () => runChild('alone', cfg, process.env), alone);
      for (let v = 0; v < variants.length; v++) {
        await step(`cli[${v}]`, () => runCli(variants[v], slide, o), cli[v]);
        const inferred = cli[v].at(-1).patches;
        if (inferred !== p.patches)
          process.stderr.write(`overhead: WARNING cli inferred ${inferred} patches, the plan ${p.patches}\n`);
      }
    }
    await step('alone', () => runChild('alone', cfg, process.env), alone);
    out.slides[kind] = {
      patches: p.patches,
      variants: variants.map((dir, v) => ({ dist: dir, summary: summarise(alone, cli[v]), runs: cli[v] })),
      alone,
    };
    variants.forEach(
      (dir, v) =>
        (text += report(kind, p.patches, path.relative(ROOT, dir) || '.', out.slides[kind].variants[v].summary)),
    );
  }
  const loadEnd = loadAverage();
  process.stdout.write(
    `overhead benchmark, ${o.rounds} round(s), batch ${o.batchSize}, threads ${o.threads || 'default'}, ` +
      `${os.cpus().length} CPUs (${os.cpus()[0]?.model}), load average ${loadStart.join(' ')} -> ${loadEnd.join(' ')}\n` +
      text,
  );
  if (o.json) {
    fs.mkdirSync(path.dirname(o.json), { recursive: true });
    fs.writeFileSync(
      o.json,
      JSON.stringify({ ...out, options: o, loadAverage: { start: loadStart, end: loadEnd } }, null, 2) + '\n',
    );
  }
}

module.exports = { main, parseSummary };
