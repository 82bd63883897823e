/**
 * Which model set a segmentation uses, decided in one place for the CLI and the gRPC server.
 *
 * Order: an explicit `--models` value, else $H2G_MODELS, else the default installed set:
 *   1. the set named in <home>/.default (`h2g models default NAME`),
 *   2. else `published` when installed,
 *   3. else the only installed set that is not demo weights.
 * Demo weights are never picked implicitly, so no real slide is ever segmented with them by accident.
 * A value (flag or variable) that looks like a path is a directory; otherwise it is an installed
 * set's name, or a directory of that name when no such set exists.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { ModelError } from './errors';
import {
  DEMO_SET,
  type InstalledSet,
  isValidSetName,
  listInstalledSets,
  modelsHome,
  PUBLISHED_SET,
  readDefaultMarker,
  readInstalledSet,
} from './store';

export const MODELS_ENV = 'H2G_MODELS';

export interface SelectOptions {
  /** `--models <dir-or-name>` */
  explicit?: string;
  env?: NodeJS.ProcessEnv;
}

export function howToInstall(home: string): string {
  return [
    `No H2G-Net model set is installed (looked in ${home}). Run one of:`,
    '  h2g models pull                                download the published weights (needs network)',
    '  h2g models import <folder> --name published    install the two .onnx files obtained by hand',
    '  npm run demo                                   try the tool offline with untrained demo weights',
    'or pass --models <dir> / set H2G_MODELS to a model directory.',
  ].join('\n');
}

const looksLikePath = (v: string): boolean => /[/\\]/.test(v) || v.startsWith('.') || v.startsWith('~');

async function isDir(p: string): Promise<boolean> {
  return (await stat(p).catch(() => null))?.isDirectory() ?? false;
}

function names(sets: InstalledSet[]): string {
  return sets.map((s) => s.name).join(', ') || 'none';
}

/** The directory of installed set `name`; what the gRPC request's `model_set` resolves through. */
export async function resolveModelSetName(name: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const home = modelsHome(env);
  // Checked before touching the disk: a request must not reach outside the models home.
  if (!isValidSetName(name)) throw new ModelError('MODEL_NOT_FOUND', `'${name}' is not a model set name`);
  const set = await readInstalledSet(home, name);
  if (!set) {
    const installed = await listInstalledSets(home);
    throw new ModelError(
      'MODEL_NOT_FOUND',
      `no model set '${name}' is installed in ${home} (installed: ${names(installed)})` +
        (installed.length ? '' : `\n${howToInstall(home)}`),
    );
  }
  return set.directory;
}

async function resolveValue(value: string, origin: string, env: NodeJS.ProcessEnv): Promise<string> {
  const dir = path.resolve(value.replace(/^~(?=$|[/\\])/, env.HOME ?? '~'));
  if (!looksLikePath(value)) {
    const set = await readInstalledSet(modelsHome(env), value);
    if (set) return set.directory;
  }
  if (await isDir(dir)) return dir;
  throw new ModelError(
    'MODEL_NOT_FOUND',
    looksLikePath(value)
      ? `model directory not found: ${dir} (from ${origin})`
      : `'${value}' (from ${origin}) is neither an installed model set (installed: ${names(
          await listInstalledSets(modelsHome(env)),
        )}) nor a directory`,
  );
}

/** The default installed set's name, or a ModelError that says exactly what to run. */
export async function defaultModelSetName(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const home = modelsHome(env);
  const marker = await readDefaultMarker(home);
  if (marker) {
    if (await readInstalledSet(home, marker)) return marker;
    throw new ModelError(
      'MODEL_NOT_FOUND',
      `the default model set '${marker}' (named in ${path.join(home, '.default')}) is not installed; ` +
        'choose another with h2g models default NAME',
    );
  }
  const sets = await listInstalledSets(home);
  if (sets.some((s) => s.name === PUBLISHED_SET)) return PUBLISHED_SET;
  const real = sets.filter((s) => !s.manifest?.demo && s.name !== DEMO_SET);
  if (real.length === 1) return real[0]!.name;
  if (real.length > 1) {
    throw new ModelError(
      'MODEL_NOT_FOUND',
      `several model sets are installed (${names(real)}) and none is the default: pick one with ` +
        '--models NAME or H2G_MODELS=NAME, or make one the default with h2g models default NAME',
    );
  }
  const demoNote = sets.length
    ? `Only demo weights are installed (${names(sets)}); they are untrained and never used unless named ` +
      '(--models demo).\n'
    : '';
  throw new ModelError('MODEL_NOT_FOUND', demoNote + howToInstall(home));
}

/** The model directory a segmentation should load. */
export async function resolveModelDirectory(options: SelectOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  if (options.explicit) return resolveValue(options.explicit, '--models', env);
  const fromEnv = env[MODELS_ENV];
  if (fromEnv) return resolveValue(fromEnv, `$${MODELS_ENV}`, env);
  return path.join(modelsHome(env), await defaultModelSetName(env));
}
