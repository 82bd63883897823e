#!/usr/bin/env node
/**
 * Read benchmark for the OpenSlide binding (issue 2, "Performance").
 *
 * Reads every 256 x 256 tile of the 10x level (downsample ~4) of a generated 40x slide of at least
 * 40,000 x 40,000 px, with N reads in flight, through our binding (dist/slide/openslide.js), and the
 * same tiles with OpenSlide's C API in one process (scripts/bench/native_read_loop.c: N pthreads
 * sharing one openslide_t, premultiplied ARGB -> RGB as the binding does). Runs are interleaved
 * (C N=1, node N=1, C N=2, node N=2, ..., for several rounds, alternating which side goes first) so
 * each node/C ratio is measured on the same noisy machine at the same time; it reports medians.
 *
 * Every run is a fresh process (the slide is opened there, and the open is not timed), so each run
 * starts with an empty OpenSlide tile cache; the OS page cache is warm after the first run, for both.
 *
 * Usage (after `npm run build`):
 *   node scripts/bench/read-tiles.js [--inflight 1,2,4,8] [--rounds 3] [--slide PATH]
 *        [--threadpool auto|K] [--api wrapper|native] [--direct-tiles on|off] [--verify] [--json FILE]
 *
 *   --threadpool  UV_THREADPOOL_SIZE of the node runs: auto = max(4, N) (Node's default of 4, raised
 *                 so that N = 8 really has 8 reads running), or a fixed K.
 *   --api         wrapper: OpenSlide.readRegion (the typed API, default); native: the addon's
 *                 readRegion directly (to see what the TypeScript wrapper costs).
 *   --addon       path of another build of openslide_binding.node (implies --api native): to A/B a
 *                 change to src/native/openslide_binding.cc built elsewhere, against the same C runs.
 *   --direct-tiles on (default): the binding serves whole aligned JPEG tiles with libtiff
 *                 (src/native/tiff_tiles.h), so node is measured against a different decoder than
 *                 the C loop; off: every node read goes through openslide_read_region, like the C
 *                 loop (what "binding overhead" means).
 *   --verify      first checks that node and C produce byte-identical RGB for every tile (untimed).
 *
 * Internal mode (one node run; the parent spawns it): --worker --slide P --tiles F --inflight N
 */
/* global __filename */
'use strict';

const { spawnSync, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { performance } = require('node:perf_hooks');

const ROOT = path.resolve(__dirname, '..', '..');
const BENCH_DATA = path.join(ROOT, 'bench-data');
const TILE = 256;
const TARGET_DOWNSAMPLE = 4; // 10x on a 40x (0.25 um/px) slide

function parseArgs(argv) {
  const opts = {
    worker: false,
    inflight: [1, 2, 4, 8],
    rounds: 3,
    slide: null,
    tiles: null,
    threadpool: 'auto',
    api: 'wrapper',
    addon: null,
    directTiles: true,
    verify: false,
    checksum: false,
    json: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--worker') opts.worker = true;
    else if (a === '--inflight' || a === '-n') opts.inflight = next().split(',').map(Number);
    else if (a === '--rounds') opts.rounds = Number(next());
    else if (a === '--slide') opts.slide = path.resolve(next());
    else if (a === '--tiles') opts.tiles = next();
    else if (a === '--threadpool') opts.threadpool = next();
    else if (a === '--api') opts.api = next();
    else if (a === '--addon') opts.addon = path.resolve(next());
    else if (a === '--direct-tiles') {
      const v = next();
      if (v !== 'on' && v !== 'off') throw new Error('--direct-tiles takes on or off');
      opts.directTiles = v === 'on';
    } else if (a === '--verify') opts.verify = true;
    else if (a === '--checksum') opts.checksum = true;
    else if (a === '--json') opts.json = path.resolve(next());
    else if (a === '--help' || a === '-h') {
      process.stdout.write(fs.readFileSync(__filename, 'utf8').split('*/')[0] + '*/\n');
      process.exit(0);
    } else throw new Error(`unknown argument: ${a}`);
  }
  if (!opts.inflight.every((n) => Number.isInteger(n) && n >= 1 && n <= 256)) {
    throw new Error('--inflight takes a comma-separated list of integers 1..256');
  }
  if (!Number.isInteger(opts.rounds) || opts.rounds < 1) throw new Error('--rounds must be a positive integer');
  if (opts.threadpool !== 'auto' && !(Number(opts.threadpool) >= 1 && Number(opts.threadpool) <= 1024)) {
    throw new Error('--threadpool must be auto or 1..1024');
  }
  if (opts.api !== 'wrapper' && opts.api !== 'native') throw new Error('--api must be wrapper or native');
  return opts;
}

function loadOpenSlide() {
  const file = path.join(ROOT, 'dist', 'slide', 'openslide.js');
  if (!fs.existsSync(file) || !fs.existsSync(path.join(ROOT, 'build', 'Release', 'openslide_binding.node'))) {
    throw new Error('the binding is not built: run `npx node-gyp build && npx tsc -p tsconfig.build.json` first');
  }
  return require(file).OpenSlide;
}

/** 32-bit FNV-1a, the same as native_read_loop.c --checksum. */
function fnv1a(buf) {
  let h = 0x811c9dc5;
  for (let i = 0; i < buf.length; i++) {
    h ^= buf[i];
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * CPU time of this process's main (event-loop) thread, from /proc (Linux; 10 ms ticks, fine over a
 * run of seconds): with the process total it splits node's CPU between the event loop and the pool.
 */
let clockTicks = 0;
function mainThreadCpuSeconds() {
  try {
    if (!clockTicks) clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })) || 100;
    const stat = fs.readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicks; // utime, stime (fields 14, 15)
  } catch {
    return NaN;
  }
}

function readTileList(file) {
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
  const [level, width, height] = lines[0].split(' ').map(Number);
  const tiles = lines.slice(1).map((l) => l.split(' ').map(Number));
  return { level, width, height, tiles };
}

// ---------------------------------------------------------------------------------------------------
// Worker: one node run. Opens the slide (untimed), then reads the tile list with N reads in flight.

async function worker(opts) {
  const OpenSlide = loadOpenSlide();
  const { level, width, height, tiles } = readTileList(opts.tiles);
  // The typed API, or the addon behind it (private field; only to measure what the wrapper costs), or
  // another build of the addon.
  const direct = opts.directTiles;
  const slide = opts.addon
    ? (await require(opts.addon).open(opts.slide, ...(direct ? [] : [false]))).slide
    : await OpenSlide.open(opts.slide, { directTiles: direct });
  const read =
    opts.addon || opts.api === 'native'
      ? (x, y) => (opts.addon ? slide : slide.native).readRegion(x, y, level, width, height)
      : (x, y) => slide.readRegion({ level, x, y, width, height });
  const sums = opts.checksum ? new Array(tiles.length) : null;
  let next = 0;
  let bytes = 0;
  async function lane() {
    while (next < tiles.length) {
      const i = next++;
      const img = await read(tiles[i][0], tiles[i][1]);
      bytes += img.data.length;
      if (sums) sums[i] = fnv1a(img.data);
    }
  }
  const elu0 = performance.eventLoopUtilization();
  const main0 = mainThreadCpuSeconds();
  const ru0 = process.resourceUsage();
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: opts.inflight[0] }, lane));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const ru = process.resourceUsage();
  const main = mainThreadCpuSeconds() - main0;
  const elu = performance.eventLoopUtilization(elu0);
  await slide.close();
  const expected = tiles.length * width * height * 3;
  if (bytes !== expected) throw new Error(`read ${bytes} bytes, expected ${expected}`);
  const result = {
    threads: opts.inflight[0],
    threadpool: Number(process.env.UV_THREADPOOL_SIZE || 4),
    tiles: tiles.length,
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    mainThreadCpuSeconds: main,
    minorFaults: ru.minorPageFault - ru0.minorPageFault,
    eventLoopUtilization: elu.utilization,
    tilesPerSecond: tiles.length / seconds,
    maxRssKiB: process.resourceUsage().maxRSS,
  };
  if (sums) result.checksums = sums;
  process.stdout.write(JSON.stringify(result) + '\n');
}

// ---------------------------------------------------------------------------------------------------
// Parent: prepare slide, tile list and C program, run the interleaved series, report.

function ensureSlide(opts) {
  if (opts.slide) return opts.slide;
  const out = execFileSync('bash', [path.join(__dirname, 'make-bench-slide.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return out.trim().split('\n').pop();
}

function buildNative() {
  const src = path.join(__dirname, 'native_read_loop.c');
  const bin = path.join(BENCH_DATA, 'native_read_loop');
  fs.mkdirSync(BENCH_DATA, { recursive: true });
  if (fs.existsSync(bin) && fs.statSync(bin).mtimeMs >= fs.statSync(src).mtimeMs) return bin;
  const flags = execFileSync('pkg-config', ['--cflags', '--libs', 'openslide'], { encoding: 'utf8' })
    .trim()
    .split(/\s+/);
  execFileSync('gcc', ['-O2', '-Wall', '-pthread', '-o', bin, src, ...flags], { stdio: 'inherit' });
  return bin;
}

async function writeTileList(slidePath) {
  const OpenSlide = loadOpenSlide();
  const slide = await OpenSlide.open(slidePath);
  const level = slide.bestLevelForDownsample(TARGET_DOWNSAMPLE);
  const { width, height, downsample } = slide.levels[level];
  const cols = Math.ceil(width / TILE);
  const rows = Math.ceil(height / TILE);
  // x, y are level-0 coordinates; width/height are level pixels (OpenSlide's convention). Row-major,
  // the order a tiled reader walks a level. Edge tiles are read full-size (OpenSlide pads with
  // transparent pixels, which become white), as a tiler feeding a fixed-size model would.
  const lines = [`${level} ${TILE} ${TILE}`];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      lines.push(`${Math.round(c * TILE * downsample)} ${Math.round(r * TILE * downsample)}`);
    }
  }
  const file = path.join(BENCH_DATA, `tiles-${path.basename(slidePath)}-L${level}.txt`);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  const info = {
    slide: slidePath,
    level0: { width: slide.width, height: slide.height },
    level,
    levelSize: { width, height },
    downsample,
    mpp: slide.pixelSize,
    grid: { cols, rows },
    tiles: cols * rows,
    tileList: file,
  };
  await slide.close();
  return info;
}

function runJson(cmd, args, env) {
  const res = spawnSync(cmd, args, { encoding: 'utf8', env, maxBuffer: 64 * 1024 * 1024 });
  if (res.status !== 0) {
    throw new Error(`${path.basename(cmd)} ${args.join(' ')} failed (${res.status}): ${res.stderr || res.stdout}`);
  }
  return JSON.parse(res.stdout.trim().split('\n').pop());
}

function runC(bin, slide, tiles, n, checksum = false) {
  return runJson(bin, [slide, tiles, String(n), ...(checksum ? ['--checksum'] : [])], process.env);
}

function runNode(opts, slide, tiles, n, checksum = false) {
  const pool = opts.threadpool === 'auto' ? Math.max(4, n) : Number(opts.threadpool);
  const env = { ...process.env, UV_THREADPOOL_SIZE: String(pool) };
  const args = [__filename, '--worker', '--slide', slide, '--tiles', tiles, '--inflight', String(n)];
  args.push('--api', opts.api);
  if (opts.addon) args.push('--addon', opts.addon);
  args.push('--direct-tiles', opts.directTiles ? 'on' : 'off');
  if (checksum) args.push('--checksum');
  return runJson(process.execPath, args, env);
}

const cpuMs = (r) => ((1000 * r.cpuSeconds) / r.tiles).toFixed(2);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.worker) return worker(opts);

  const slidePath = ensureSlide(opts);
  const bin = buildNative();
  const info = await writeTileList(slidePath);
  const log = (s) => process.stderr.write(s + '\n');
  log(
    `slide ${info.slide}: ${info.level0.width} x ${info.level0.height} px, ` +
      `${info.mpp ? info.mpp.x.toFixed(3) + ' um/px' : 'no pixel size'}`,
  );
  log(
    `level ${info.level} (downsample ${info.downsample.toFixed(4)}): ${info.levelSize.width} x ` +
      `${info.levelSize.height} px, ${info.grid.cols} x ${info.grid.rows} = ${info.tiles} tiles of ${TILE} x ${TILE}`,
  );
  log(`node ${process.version}, OpenSlide ${loadOpenSlide().libraryVersion()}, api=${opts.api}`);

  if (opts.verify) {
    const c = runC(bin, slidePath, info.tileList, 2, true);
    const js = runNode(opts, slidePath, info.tileList, 2, true);
    const bad = c.checksums.filter((s, i) => s !== js.checksums[i]).length;
    if (bad) throw new Error(`verify: ${bad} of ${c.checksums.length} tiles differ between node and C`);
    log(`verify: all ${c.checksums.length} tiles byte-identical (node vs C)`);
  }

  const runs = [];
  for (let round = 1; round <= opts.rounds; round++) {
    for (const n of opts.inflight) {
      // Alternate which side goes first, so neither always runs right after the other's page-cache use.
      const order = round % 2 ? ['c', 'node'] : ['node', 'c'];
      const pair = {};
      for (const side of order) {
        pair[side] = side === 'c' ? runC(bin, slidePath, info.tileList, n) : runNode(opts, slidePath, info.tileList, n);
      }
      const ratio = pair.node.tilesPerSecond / pair.c.tilesPerSecond;
      const cpuRatio = pair.node.cpuSeconds / pair.c.cpuSeconds;
      runs.push({ round, n, c: pair.c, node: pair.node, ratio, cpuRatio });
      log(
        `round ${round} N=${n}: C ${pair.c.tilesPerSecond.toFixed(1)} tiles/s, node ` +
          `${pair.node.tilesPerSecond.toFixed(1)} tiles/s (pool ${pair.node.threadpool}), node/C ${ratio.toFixed(3)}; ` +
          `CPU ms/tile C ${cpuMs(pair.c)} node ${cpuMs(pair.node)}; ` +
          `faults/tile C ${(pair.c.minorFaults / pair.c.tiles).toFixed(1)} node ` +
          `${(pair.node.minorFaults / pair.node.tiles).toFixed(1)}; ` +
          `node maxRSS ${(pair.node.maxRssKiB / 1024).toFixed(0)} MiB`,
      );
    }
  }

  const summary = opts.inflight.map((n) => {
    const rs = runs.filter((r) => r.n === n);
    const perTile = (side, key, scale = 1) => median(rs.map((r) => (scale * r[side][key]) / r[side].tiles));
    return {
      n,
      cTilesPerSecond: median(rs.map((r) => r.c.tilesPerSecond)),
      nodeTilesPerSecond: median(rs.map((r) => r.node.tilesPerSecond)),
      ratio: median(rs.map((r) => r.ratio)),
      cCpuMsPerTile: perTile('c', 'cpuSeconds', 1000),
      nodeCpuMsPerTile: perTile('node', 'cpuSeconds', 1000),
      nodeMainThreadCpuMsPerTile: perTile('node', 'mainThreadCpuSeconds', 1000),
      cpuRatio: median(rs.map((r) => r.cpuRatio)),
      cFaultsPerTile: perTile('c', 'minorFaults'),
      nodeFaultsPerTile: perTile('node', 'minorFaults'),
      nodeMaxRssMiB: Math.max(...rs.map((r) => r.node.maxRssKiB)) / 1024,
      cMaxRssMiB: Math.max(...rs.map((r) => r.c.maxRssKiB)) / 1024,
    };
  });
  const base = summary[0];
  const f = (x, digits, width) => x.toFixed(digits).padStart(width);
  const table = [
    `\n${info.tiles} tiles per run, ${opts.rounds} round(s); medians (node/C = median of the per-round ratios)`,
    `node reads: ${opts.directTiles ? 'direct tiles on (whole aligned JPEG tiles decoded by libtiff)' : 'direct tiles off (every read through openslide_read_region, as the C loop)'}`,
    '',
    '| N | C tiles/s | node tiles/s | node/C | C scaling | node scaling | node peak RSS | C peak RSS |',
    '|--:|----------:|-------------:|-------:|----------:|-------------:|--------------:|-----------:|',
    ...summary.map(
      (s) =>
        `| ${s.n} | ${f(s.cTilesPerSecond, 1, 9)} | ${f(s.nodeTilesPerSecond, 1, 12)} | ${f(s.ratio, 3, 6)} | ` +
        `${f(s.cTilesPerSecond / base.cTilesPerSecond, 2, 8)}x | ` +
        `${f(s.nodeTilesPerSecond / base.nodeTilesPerSecond, 2, 11)}x | ` +
        `${f(s.nodeMaxRssMiB, 0, 9)} MiB | ${f(s.cMaxRssMiB, 0, 6)} MiB |`,
    ),
    '',
    'CPU time per tile (user + system, all threads, read loop only) and minor page faults per tile:',
    '',
    '| N | C CPU ms/tile | node CPU ms/tile | of which event loop | node/C CPU | C faults/tile | node faults/tile |',
    '|--:|--------------:|-----------------:|--------------------:|-----------:|--------------:|-----------------:|',
    ...summary.map(
      (s) =>
        `| ${s.n} | ${f(s.cCpuMsPerTile, 2, 13)} | ${f(s.nodeCpuMsPerTile, 2, 16)} | ` +
        `${f(s.nodeMainThreadCpuMsPerTile, 2, 19)} | ${f(s.cpuRatio, 2, 9)}x | ${f(s.cFaultsPerTile, 1, 13)} | ` +
        `${f(s.nodeFaultsPerTile, 1, 16)} |`,
    ),
  ];
  const two = summary.find((s) => s.n === 2);
  if (two) {
    table.push(
      `\ngoal (node >= 0.9 x C at N = 2): ${two.ratio >= 0.9 ? 'met' : 'NOT met'} (node/C = ${two.ratio.toFixed(3)})`,
    );
  }
  process.stdout.write(table.join('\n') + '\n');
  if (opts.json) {
    const doc = { info: { ...info, directTiles: opts.directTiles }, summary, runs };
    fs.writeFileSync(opts.json, JSON.stringify(doc, null, 2) + '\n');
  }
}

main().catch((err) => {
  process.stderr.write(`read-tiles: ${err && err.message ? err.message : err}\n`);
  process.exit(1);
});
