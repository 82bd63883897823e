/**
 * No output destroys an input or is left half written. Before: `h2g segment slide -o slide` (or
 * `--save-mask` onto the slide, or through a symlink) overwrote the slide with GeoJSON, and a full
 * disk left a truncated PNG or a 0-byte GeoJSON in place of the previous result. The full disk is
 * a file-size limit (`ulimit -f`, EFBIG), so nothing is mounted.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, linkSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type CliResult, runCli } from '../helpers/cli';
import { H2G_BIN, MODELS, SHAPES_TIFF } from '../helpers/paths';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'h2g-outputs-'));
const slide = path.join(tmp, 'slide.tif');
copyFileSync(SHAPES_TIFF, slide);
const original = readFileSync(slide);
const base = ['segment', slide, '--models', MODELS.oracle];

/** The CLI with a file-size limit of `kib` KiB: writes past it fail with EFBIG, as on a full disk. */
function runLimited(kib: number, args: string[]): Promise<CliResult> {
  return new Promise((resolve) =>
    execFile(
      'bash',
      ['-c', `ulimit -f ${kib}; exec "$0" "$@"`, process.execPath, H2G_BIN, ...args],
      { env: { ...process.env, H2G_LOG_LEVEL: 'warn' } },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

test.each([
  ['-o onto the slide', () => ['-o', slide]],
  [
    '--save-mask onto the slide through a symlink',
    () => {
      const link = path.join(tmp, 'innocent.png');
      symlinkSync(slide, link);
      return ['-o', path.join(tmp, 'a.geojson'), '--save-mask', link];
    },
  ],
  [
    '--overlay onto a hard link of the slide',
    () => {
      const hard = path.join(tmp, 'hard.png');
      linkSync(slide, hard);
      return ['-o', path.join(tmp, 'b.geojson'), '--overlay', hard];
    },
  ],
  [
    '--save-heatmap onto the slide through ..',
    () => ['-o', path.join(tmp, 'c.geojson'), '--save-heatmap', path.join(tmp, 'x', '..', 'slide.tif')],
  ],
])('%s is refused (exit 2) and the slide is untouched', async (_name, args) => {
  const r = await runCli([...base, ...args()]);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/^h2g: error: --\S+ .* is the input .*slide\.tif: refusing to overwrite it/);
  expect(readFileSync(slide).equals(original)).toBe(true);
});

test('two outputs onto one file are refused before any work', async () => {
  const out = path.join(tmp, 'same.png');
  const r = await runCli([...base, '-o', path.join(tmp, 'd.geojson'), '--save-mask', out, '--overlay', out]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('--overlay');
  expect(r.stderr).toContain('is the same file as --save-mask');
});

test('a full disk leaves every earlier output as it was and no temporary file', async () => {
  const dir = mkdtempSync(path.join(tmp, 'full-'));
  const outputs = { geojson: path.join(dir, 'r.geojson'), overlay: path.join(dir, 'r.png') };
  for (const f of Object.values(outputs)) writeFileSync(f, 'the previous result');
  // Room for the GeoJSON (12 KiB here), not for the overlay PNG (17 KiB).
  const r = await runLimited(14, [...base, '-o', outputs.geojson, '--overlay', outputs.overlay]);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/EFBIG|file too large/);
  expect(readFileSync(outputs.overlay, 'utf8')).toBe('the previous result');
  expect(JSON.parse(readFileSync(outputs.geojson, 'utf8')).type).toBe('FeatureCollection');
  expect(readdirSync(dir).sort()).toEqual(['r.geojson', 'r.png']);

  const none = await runLimited(0, [...base, '-o', outputs.geojson]);
  expect(none.code).toBe(1);
  expect(readFileSync(outputs.geojson, 'utf8').length).toBeGreaterThan(0);
  expect(readdirSync(dir).sort()).toEqual(['r.geojson', 'r.png']);
});
