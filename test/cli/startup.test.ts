/**
 * Issue 17, a short start-up: `h2g segment` loads the modules its own work needs and not those of the
 * other commands (gRPC for serve, ECharts and the result cache for batch and --cache), checked on the
 * real CLI's require.cache at exit; `h2g --help` still lists every command.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { H2G_BIN } from '../helpers/paths';
import { MODELS, SHAPES_TIFF } from '../helpers/paths';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'h2g-startup-'));
const PRELOAD = path.join(tmp, 'record-modules.js');
// Written by the child at exit: the main thread's loaded module files.
writeFileSync(
  PRELOAD,
  "process.on('exit', () => require('node:fs').writeFileSync(process.env.H2G_MODULES_OUT, " +
    'JSON.stringify(Object.keys(require.cache))));\n',
);

function loadedModules(args: string[], name: string): Promise<{ code: number; modules: string[]; stderr: string }> {
  const out = path.join(tmp, `${name}.json`);
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['-r', PRELOAD, H2G_BIN, ...args],
      { env: { ...process.env, H2G_LOG_LEVEL: 'warn', H2G_MODULES_OUT: out } },
      (err, _stdout, stderr) => {
        const modules = JSON.parse(readFileSync(out, 'utf8')) as string[];
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, modules, stderr });
      },
    );
  });
}

const ofPackage = (modules: string[], pkg: string) => modules.filter((m) => m.includes(`/node_modules/${pkg}/`));
const ofDist = (modules: string[], dir: string) => modules.filter((m) => m.includes(`/dist/${dir}/`));

describe('start-up of h2g segment', () => {
  test('segment loads the pipeline but not gRPC, ECharts, the batch machinery or the server', async () => {
    const r = await loadedModules(
      ['segment', SHAPES_TIFF, '--models', MODELS.tiny, '-o', path.join(tmp, 's.json')],
      'segment',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(ofDist(r.modules, 'pipeline').length).toBeGreaterThan(0); // the record sees what did load
    expect(ofPackage(r.modules, '@grpc/grpc-js')).toEqual([]);
    expect(ofPackage(r.modules, 'echarts')).toEqual([]);
    expect(ofDist(r.modules, 'server')).toEqual([]);
    expect(ofDist(r.modules, 'batch')).toEqual([]);
    expect(ofDist(r.modules, 'cli').map((m) => path.basename(m))).not.toContain('serve.js');
    // onnxruntime lives on the inference thread, not on the main thread.
    expect(ofPackage(r.modules, 'onnxruntime-node')).toEqual([]);
  });

  test('help still lists (and so loads) every command', async () => {
    const r = await loadedModules(['--help'], 'help');
    expect(r.code).toBe(0);
    const cli = ofDist(r.modules, 'cli').map((m) => path.basename(m));
    for (const c of ['info.js', 'models.js', 'demo.js', 'segment.js', 'batch.js', 'serve.js']) expect(cli).toContain(c);
    expect(ofPackage(r.modules, '@grpc/grpc-js').length).toBeGreaterThan(0);
  });
});
