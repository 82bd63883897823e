/**
 * `h2g models ...` as a user runs it: pull with the real published size table (against a stand-in
 * refinement file padded to 46,313,140 bytes), list, verify (exit status), default, import.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadModelSet } from '../../src/models/model-set';
import {
  closedPort,
  homeEntries,
  makeModels,
  padOnnx,
  PATCH,
  REFINEMENT,
  type ReleaseServer,
  removeDirs,
  runModelsCli,
  serveDir,
  startReleaseServer,
  tempDir,
} from './helpers';

let tiny: string;
let server: ReleaseServer;
let home: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  tiny = makeModels('tiny');
});
afterAll(() => removeDirs(tiny));
beforeEach(async () => {
  server = await startReleaseServer();
  home = tempDir('cli');
  // FAST's Data Hub on the stand-in answers 404 (no such item there), so pull falls back to the release.
  env = {
    H2G_MODELS_HOME: home,
    H2G_MODELS_URL: server.urlBase,
    H2G_FAST_HUB_URL: new URL(server.urlBase).origin,
    HOME: home,
  };
});
afterEach(async () => {
  await server.close();
  removeDirs(home);
});

test('pull installs a set whose refinement file has the published size; list and verify show it', async () => {
  serveDir(server, tiny);
  const padded = padOnnx(readFileSync(path.join(tiny, REFINEMENT)), 46_313_140);
  server.routes.set(REFINEMENT, { kind: 'file', data: padded });

  const pull = await runModelsCli(['pull'], env);
  expect(pull.error).toBeNull();
  expect(pull.stdout).toContain(`installed model set 'published' in ${path.join(home, 'published')}`);
  expect(pull.stdout).toMatch(
    /refinement: refinement_network_breast_cancer\.onnx {2}46,313,140 bytes {2}sha256 [0-9a-f]{64}/,
  );
  // Not a terminal: one line per file instead of a bar.
  expect(pull.stderr).toContain(`downloading ${server.urlBase}/${PATCH}`);
  expect(pull.stderr).toContain(`${REFINEMENT}: 46,313,140 bytes`);

  const list = await runModelsCli(['list', '--json'], env);
  const json = JSON.parse(list.stdout);
  expect(json).toMatchObject({ home, default: 'published' });
  expect(json.sets).toHaveLength(1);
  expect(json.sets[0]).toMatchObject({ name: 'published', default: true, demo: false, source: server.urlBase });
  expect(json.sets[0].files[1]).toMatchObject({ role: 'refinement', size: 46_313_140 });
  expect(json.sets[0].files[1].sha256).toMatch(/^[0-9a-f]{64}$/);

  const text = await runModelsCli(['list'], env);
  expect(text.stdout).toMatch(/^\* published {2}\(default\)$/m);

  const verify = await runModelsCli(['verify'], env);
  expect(verify.error).toBeNull();
  expect(verify.stdout).toMatch(/^OK {4}published/m);
});

test('on a terminal, pull draws a progress bar per file on stderr', async () => {
  serveDir(server, tiny);
  server.routes.set(REFINEMENT, { kind: 'file', data: padOnnx(readFileSync(path.join(tiny, REFINEMENT)), 46_313_140) });
  const r = await runModelsCli(['pull'], env, true);
  expect(r.error).toBeNull();
  expect(r.stderr).toMatch(/refinement_network_breast_c.*\[[^\]]*\] 100% \| 46\.3\/46\.3 MB/);
  expect(r.stderr).not.toContain(`${REFINEMENT}: 46,313,140 bytes`); // the plain-line form is for logs only
});

test('pull applies the published size by default: the unpadded stand-in is refused', async () => {
  serveDir(server, tiny);
  const r = await runModelsCli(['pull'], env);
  expect(r.error?.message).toMatch(/has 17,918 bytes but the published file has 46,313,140 bytes/);
  expect(homeEntries(home)).toEqual([]);
});

test('pull --url-base and --dest override the environment', async () => {
  serveDir(server, tiny);
  const dest = tempDir('dest');
  const port = await closedPort();
  const r = await runModelsCli(['pull', '--dest', dest, '--url-base', server.urlBase], {
    H2G_MODELS_HOME: home,
    H2G_MODELS_URL: `http://127.0.0.1:${port}`,
  });
  // The request reached our server (not the closed port) and the files landed in --dest.
  expect(server.requests).toEqual([PATCH, REFINEMENT]);
  expect(r.error?.message).toMatch(/46,313,140/);
  expect(homeEntries(dest)).toEqual([]);
  removeDirs(dest);
});

test('without network pull fails fast with the install-by-hand message', async () => {
  const port = await closedPort();
  const t0 = Date.now();
  const r = await runModelsCli(['pull'], { H2G_MODELS_HOME: home, H2G_MODELS_URL: `http://127.0.0.1:${port}` });
  expect(Date.now() - t0).toBeLessThan(3000);
  expect(r.error?.message).toMatch(/cannot reach 127\.0\.0\.1.*\n[\s\S]*h2g models import <folder> --name published/);
});

test('verify exits non-zero when a set is corrupted, naming the set and the file', async () => {
  expect((await runModelsCli(['import', tiny, '--name', 'published'], env)).error).toBeNull();
  expect((await runModelsCli(['import', tiny, '--name', 'spare'], env)).error).toBeNull();
  const file = path.join(home, 'spare', PATCH);
  const data = readFileSync(file);
  writeFileSync(file, Buffer.concat([data.subarray(0, 1000), Buffer.from('corrupt'), data.subarray(1007)]));

  const all = await runModelsCli(['verify'], env);
  expect(all.error?.message).toBe('1 of 2 model set(s) failed verification');
  expect(all.stdout).toMatch(/^OK {4}published/m);
  expect(all.stdout).toMatch(/^FAIL {2}spare[\s\S]*patchwise_mobilenet_network_breast_cancer\.onnx has SHA-256/m);
  expect((await runModelsCli(['verify', 'published'], env)).error).toBeNull();
  expect((await runModelsCli(['verify', 'nope'], env)).error?.message).toMatch(/no model set 'nope' is installed/);
  // The intact set still loads.
  await (await loadModelSet(path.join(home, 'published'), { provider: 'cpu', threads: 1 })).release();
});

test('default shows and sets the default set; list marks it', async () => {
  await runModelsCli(['import', tiny, '--name', 'a'], env);
  await runModelsCli(['import', tiny, '--name', 'b'], env);
  expect((await runModelsCli(['default'], env)).error?.message).toMatch(/several model sets are installed/);
  expect((await runModelsCli(['default', 'b'], env)).stdout).toBe('b\n');
  expect((await runModelsCli(['default'], env)).stdout).toBe('b\n');
  expect((await runModelsCli(['list'], env)).stdout).toMatch(/^\* b {2}\(default\)$/m);
  expect((await runModelsCli(['default', 'zzz'], env)).error?.message).toMatch(/no model set 'zzz' is installed/);
});

test('list with nothing installed says what to run', async () => {
  const r = await runModelsCli(['list'], env);
  expect(r.error).toBeNull();
  expect(r.stdout).toMatch(/No H2G-Net model set is installed[\s\S]*h2g models pull/);
});
