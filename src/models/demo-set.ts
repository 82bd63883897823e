/**
 * The `demo` model set: the reference architectures with seeded random weights, generated offline by
 * scripts/make_test_models.py and installed like any other set, but marked demo: true so every result
 * made with it says that it means nothing clinically.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ModelError } from './errors';
import { cleanupStale, createStaging, DEMO_SET, readInstalledSet } from './store';
import { finishInstall } from './store-install';
import { verifyInstalledSet } from './verify';

const execFileAsync = promisify(execFile);

/** Repository root: this file sits in src/models (ts-jest) or dist/models (built). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');
const GENERATOR = path.join(REPO_ROOT, 'scripts', 'make_test_models.py');
export const DEMO_SEED = 1234;

/** Debian's python3 has the python3-onnx/numpy packages the README installs; H2G_PYTHON overrides. */
function python(env: NodeJS.ProcessEnv): string {
  return env.H2G_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
}

export interface DemoSetResult {
  directory: string;
  /** False when an intact demo set was already installed and reused. */
  generated: boolean;
}

async function generate(home: string, env: NodeJS.ProcessEnv): Promise<string> {
  await cleanupStale(home);
  const staging = await createStaging(home);
  try {
    await execFileAsync(python(env), [GENERATOR, '--variant', 'full', '--seed', String(DEMO_SEED), '--out', staging], {
      maxBuffer: 1 << 20,
    });
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    const e = err as { code?: string; stderr?: string; message: string };
    const reason = e.code === 'ENOENT' ? `${python(env)} not found` : (e.stderr || e.message).trim().split('\n').pop();
    throw new ModelError(
      'MODEL_NOT_FOUND',
      `cannot generate the demo weights with ${GENERATOR}: ${reason}\n` +
        'It needs Python 3 with numpy and onnx (Debian: apt-get install python3-onnx python3-numpy; ' +
        'or set H2G_PYTHON to a python that has them).',
      { cause: err },
    );
  }
  const result = await finishInstall(home, staging, {
    name: DEMO_SET,
    source: 'generated',
    demo: true,
    description:
      `UNTRAINED demo weights: the H2G-Net architectures with random weights ` +
      `(scripts/make_test_models.py --variant full --seed ${DEMO_SEED}); results mean nothing clinically`,
  });
  return result.directory;
}

/** The installed demo set, generated and installed first when missing or damaged. */
export async function ensureDemoSet(home: string, env: NodeJS.ProcessEnv = process.env): Promise<DemoSetResult> {
  const existing = await readInstalledSet(home, DEMO_SET);
  if (existing?.manifest && !existing.manifest.demo) {
    // Never overwrite a user's own set that happens to be called "demo".
    throw new ModelError(
      'MODEL_CONTRACT',
      `${existing.directory} holds a model set named '${DEMO_SET}' that is not demo weights; rename it to run the demo`,
    );
  }
  if (existing && (await verifyInstalledSet(existing)).ok) return { directory: existing.directory, generated: false };
  return { directory: await generate(home, env), generated: true };
}
