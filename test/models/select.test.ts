/**
 * Model selection order: --models, else $H2G_MODELS, else the default installed set (marker, then
 * `published`, then the only non-demo set); demo weights are never picked implicitly.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ModelError } from '../../src/models/errors';
import { defaultModelSetName, resolveModelDirectory, resolveModelSetName } from '../../src/models/select';
import { modelsHome, writeDefaultMarker } from '../../src/models/store';
import { removeDirs, tempDir } from './helpers';

let home: string;
let env: NodeJS.ProcessEnv;

/** A set as far as selection is concerned: a directory with a manifest (files are load's business). */
function fakeSet(name: string, demo = false): string {
  const dir = path.join(home, name);
  mkdirSync(dir, { recursive: true });
  const entry = (file: string) => ({ file });
  writeFileSync(
    path.join(dir, 'h2g-models.json'),
    JSON.stringify({
      schemaVersion: 1,
      name,
      demo,
      files: {
        patch: entry('patchwise_mobilenet_network_breast_cancer.onnx'),
        refinement: entry('refinement_network_breast_cancer.onnx'),
      },
    }),
  );
  return dir;
}

async function notFound(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ModelError);
  expect((err as ModelError).code).toBe('MODEL_NOT_FOUND');
  return (err as Error).message;
}

beforeEach(() => {
  home = tempDir('select');
  env = { H2G_MODELS_HOME: home, HOME: '/nonexistent-home' };
});
afterEach(() => removeDirs(home));

describe('models home', () => {
  test('--dest, then H2G_MODELS_HOME, then XDG_CACHE_HOME, then ~/.cache', () => {
    expect(modelsHome({ H2G_MODELS_HOME: '/a' }, '/d')).toBe('/d');
    expect(modelsHome({ H2G_MODELS_HOME: '/a', XDG_CACHE_HOME: '/x' })).toBe('/a');
    expect(modelsHome({ XDG_CACHE_HOME: '/x', HOME: '/h' })).toBe('/x/h2gnet/models');
    // A relative XDG_CACHE_HOME is invalid per the spec and ignored.
    expect(modelsHome({ XDG_CACHE_HOME: 'rel', HOME: '/h' })).toBe('/h/.cache/h2gnet/models');
  });
});

describe('resolveModelDirectory', () => {
  test('nothing installed: the error says exactly what to run', async () => {
    const msg = await notFound(resolveModelDirectory({ env }));
    expect(msg).toContain(`No H2G-Net model set is installed (looked in ${home})`);
    expect(msg).toMatch(/h2g models pull\b/);
    expect(msg).toMatch(/h2g models import <folder> --name published/);
    expect(msg).toMatch(/npm run demo/);
  });

  test('published wins over other sets; the only non-demo set is used otherwise', async () => {
    fakeSet('demo', true);
    fakeSet('lab');
    expect(await resolveModelDirectory({ env })).toBe(path.join(home, 'lab'));
    fakeSet('published');
    expect(await resolveModelDirectory({ env })).toBe(path.join(home, 'published'));
  });

  test('demo weights alone are never chosen implicitly', async () => {
    fakeSet('demo', true);
    const msg = await notFound(resolveModelDirectory({ env }));
    expect(msg).toMatch(/Only demo weights are installed \(demo\).*--models demo/);
    expect(msg).toMatch(/h2g models pull/);
    // ...but named, they are used.
    expect(await resolveModelDirectory({ explicit: 'demo', env })).toBe(path.join(home, 'demo'));
  });

  test('several sets without a default: ambiguous, resolved by the marker', async () => {
    fakeSet('a');
    fakeSet('b');
    expect(await notFound(resolveModelDirectory({ env }))).toMatch(/several model sets are installed \(a, b\)/);
    await writeDefaultMarker(home, 'b');
    expect(await defaultModelSetName(env)).toBe('b');
    fakeSet('published');
    // The marker is the user's explicit choice, so it beats `published`.
    expect(await resolveModelDirectory({ env })).toBe(path.join(home, 'b'));
    removeDirs(path.join(home, 'b'));
    expect(await notFound(resolveModelDirectory({ env }))).toMatch(/the default model set 'b' .* is not installed/);
  });

  test('H2G_MODELS beats the default; --models beats H2G_MODELS', async () => {
    fakeSet('published');
    fakeSet('other');
    const dir = tempDir('explicit');
    expect(await resolveModelDirectory({ env: { ...env, H2G_MODELS: 'other' } })).toBe(path.join(home, 'other'));
    expect(await resolveModelDirectory({ env: { ...env, H2G_MODELS: dir } })).toBe(dir);
    expect(await resolveModelDirectory({ explicit: 'published', env: { ...env, H2G_MODELS: dir } })).toBe(
      path.join(home, 'published'),
    );
    expect(await resolveModelDirectory({ explicit: dir, env: { ...env, H2G_MODELS: 'other' } })).toBe(dir);
    removeDirs(dir);
  });

  test('a missing directory or unknown name is reported with where it came from', async () => {
    fakeSet('published');
    expect(await notFound(resolveModelDirectory({ explicit: './nope', env }))).toMatch(
      /model directory not found: .*nope \(from --models\)/,
    );
    expect(await notFound(resolveModelDirectory({ env: { ...env, H2G_MODELS: 'nope' } }))).toMatch(
      /'nope' \(from \$H2G_MODELS\) is neither an installed model set \(installed: published\) nor a directory/,
    );
  });
});

describe('resolveModelSetName (the gRPC request model_set)', () => {
  test('an installed name resolves to its directory', async () => {
    fakeSet('published');
    expect(await resolveModelSetName('published', env)).toBe(path.join(home, 'published'));
  });

  test('paths are not names: nothing outside the models home is reachable', async () => {
    const outside = tempDir('outside');
    fakeSet('published');
    for (const bad of ['../published', outside, '.', '..', '']) {
      expect(await notFound(resolveModelSetName(bad, env))).toMatch(/is not a model set name/);
    }
    removeDirs(outside);
  });

  test('an unknown name lists what is installed', async () => {
    fakeSet('published');
    expect(await notFound(resolveModelSetName('lab', env))).toMatch(/no model set 'lab' .*\(installed: published\)/);
  });
});
