/**
 * FAST itself (pyFAST 4.18.0 in .venv, see scripts/setup-python.sh) as the oracle: runs
 * test/reference/fast_oracle.py once per slide, model set and arguments, and keeps its outputs under
 * .cache/fast-oracle/ (keyed by the script, the arguments and the input files' sizes and times), so a
 * second test run does not pay FAST's minutes again.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { type NpyArray, readNpy } from './npy';
import { ROOT } from './paths';

export const FAST_PYTHON = process.env.H2G_FAST_PYTHON ?? path.join(ROOT, '.venv', 'bin', 'python');
const SCRIPT = path.join(ROOT, 'test', 'reference', 'fast_oracle.py');

export interface FastOutputs {
  tissue: NpyArray;
  inferred: NpyArray;
  heatmap: NpyArray;
  refined: NpyArray;
  mask: NpyArray;
  info: { magnification: number; levels: [number, number][]; inferred: number; grid: [number, number] };
}

function fingerprint(file: string): string {
  const s = statSync(file);
  return `${file}:${s.size}:${s.mtimeMs}`;
}

export async function runFast(slide: string, models: string, args: string[] = []): Promise<FastOutputs> {
  if (!existsSync(FAST_PYTHON)) {
    throw new Error(`${FAST_PYTHON} is missing: run scripts/setup-python.sh (it installs pyFAST 4.18.0)`);
  }
  const key = createHash('sha256')
    .update(readFileSync(SCRIPT))
    .update(
      [slide, ...args, fingerprint(slide), ...readdirSync(models).map((f) => fingerprint(path.join(models, f)))].join(
        '\n',
      ),
    )
    .digest('hex')
    .slice(0, 16);
  const out = path.join(ROOT, '.cache', 'fast-oracle', key);
  if (!existsSync(path.join(out, 'info.json'))) {
    const tmp = `${out}.partial`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(path.dirname(out), { recursive: true });
    await promisify(execFile)(FAST_PYTHON, [SCRIPT, slide, models, tmp, ...args], {
      maxBuffer: 64 * 1024 * 1024,
    });
    renameSync(tmp, out);
  }
  const npy = (name: string) => readNpy(path.join(out, `${name}.npy`));
  return {
    tissue: npy('tissue'),
    inferred: npy('inferred'),
    heatmap: npy('heatmap'),
    refined: npy('refined'),
    mask: npy('mask'),
    info: JSON.parse(readFileSync(path.join(out, 'info.json'), 'utf8')),
  };
}
