/**
 * FastPathology's model hub: `pullPublished` against a local server speaking FAST's Data Hub API
 * (`/api/items/get/<id>` -> JSON with `download_url` -> a zip of FAST's two files), the fallback to the
 * GitHub release when the hub fails, and FastPathology's own ~/FAST/datahub folder imported with no
 * network at all (also by `h2g models import` without paths).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { HUB_ITEM, type HubItem, extractZip } from '../../src/models/hub';
import { readManifest } from '../../src/models/manifest';
import { pullPublished } from '../../src/models/pull';
import {
  closedPort,
  makeModels,
  PATCH,
  REFINEMENT,
  type ReleaseServer,
  removeDirs,
  runModelsCli,
  serveDir,
  startReleaseServer,
  tempDir,
} from './helpers';

const FAST_PATCH = 'pw_tumour_mobilenetv2_model.onnx';
const FAST_REFINEMENT = 'unet_tumour_refinement_model_fix-opset9.onnx';
const DOWNLOAD = { connectTimeoutMs: 2000, stallTimeoutMs: 500 };

let tiny: string;
let server: ReleaseServer;
let home: string;
let userHome: string;
let origin: string;

/** A zip as the hub serves it: FAST's file names inside a folder, plus a text file. */
function makeZip(entries: Record<string, string>): Buffer {
  const out = path.join(tempDir('zip'), 'item.zip');
  const script =
    'import sys, zipfile, json\n' +
    'with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:\n' +
    '    for name, src in json.loads(sys.argv[2]).items():\n' +
    '        z.write(src, name) if src.startswith("/") else z.writestr(name, src)\n';
  execFileSync('python3', ['-c', script, out, JSON.stringify(entries)]);
  return readFileSync(out);
}

function item(extra: Partial<HubItem> = {}): HubItem {
  return {
    name: 'Breast tumour segmentation model',
    type: 'NeuralNetworkModel',
    author: 'André Pedersen',
    license_name: 'MIT',
    license_url: 'https://opensource.org/licenses/MIT',
    download_url: `${origin}/files/h2g.zip`,
    needs: [],
    ...extra,
  };
}

beforeAll(() => {
  tiny = makeModels('tiny');
});
afterAll(() => removeDirs(tiny));
beforeEach(async () => {
  server = await startReleaseServer();
  origin = new URL(server.urlBase).origin;
  home = tempDir('hub-home');
  userHome = tempDir('user');
});
afterEach(async () => {
  await server.close();
  removeDirs(home, userHome);
});

async function pull(hubUrl: string | null, urlBase = server.urlBase) {
  const seen = { items: [] as HubItem[], failed: [] as string[] };
  const result = await pullPublished({
    home,
    urlBase,
    hubUrl,
    env: { HOME: userHome },
    expectedSizes: {},
    download: DOWNLOAD,
    onHubItem: (i) => seen.items.push(i),
    onSourceFailed: (what, reason) => seen.failed.push(`${what}: ${reason}`),
  });
  return { result, seen };
}

function expectInstalledTiny(): void {
  for (const f of [PATCH, REFINEMENT]) {
    expect(readFileSync(path.join(home, 'published', f)).equals(readFileSync(path.join(tiny, f)))).toBe(true);
  }
}

test("the hub's item is downloaded, extracted and installed, with its licence and author", async () => {
  const zip = makeZip({
    [`${HUB_ITEM}/${FAST_PATCH}`]: path.join(tiny, PATCH),
    [`${HUB_ITEM}/${FAST_REFINEMENT}`]: path.join(tiny, REFINEMENT),
    [`${HUB_ITEM}/README.txt`]: 'H2G-Net weights',
  });
  server.routes.set(HUB_ITEM, { kind: 'file', data: Buffer.from(JSON.stringify(item())) });
  server.routes.set('h2g.zip', { kind: 'file', data: zip });
  const { result, seen } = await pull(origin);
  expect(result.from.kind).toBe('fast-hub');
  expect(seen.items.map((i) => [i.license_name, i.author])).toEqual([['MIT', 'André Pedersen']]);
  expectInstalledTiny();
  const { manifest } = await readManifest(path.join(home, 'published'));
  expect(manifest.source).toBe(`${origin}/api/items/get/${HUB_ITEM}`);
  expect(manifest.description).toContain('licence MIT (https://opensource.org/licenses/MIT), author André Pedersen');
  expect(server.requests).not.toContain(PATCH); // the release was not needed
  expect(existsSync(path.join(home, '.hub-'))).toBe(false);
});

test('when the hub fails, the GitHub release is used and the hub failure is said', async () => {
  server.routes.set(HUB_ITEM, { kind: 'status', code: 503 });
  serveDir(server, tiny);
  const { result, seen } = await pull(origin);
  expect(result.from.kind).toBe('release');
  expect(seen.failed.join('\n')).toMatch(/FAST's Data Hub: .*HTTP 503/);
  expectInstalledTiny();
});

test('an item without a download_url, or a zip that is not one, falls back too', async () => {
  server.routes.set(HUB_ITEM, { kind: 'file', data: Buffer.from(JSON.stringify({ name: 'x' })) });
  serveDir(server, tiny);
  const first = await pull(origin);
  expect(first.seen.failed.join('\n')).toContain('did not answer with a FAST Data Hub item');

  removeDirs(home);
  home = tempDir('hub-home');
  server.routes.set(HUB_ITEM, { kind: 'file', data: Buffer.from(JSON.stringify(item())) });
  server.routes.set('h2g.zip', { kind: 'file', data: Buffer.from('not a zip at all') });
  const second = await pull(origin);
  expect(second.seen.failed.join('\n')).toContain('not a valid zip file');
  expect(second.result.from.kind).toBe('release');
});

test("FastPathology's own folder is imported with no network; import without paths does the same", async () => {
  const folder = path.join(userHome, 'FAST', 'datahub', HUB_ITEM);
  mkdirSync(folder, { recursive: true });
  copyFileSync(path.join(tiny, PATCH), path.join(folder, FAST_PATCH));
  copyFileSync(path.join(tiny, REFINEMENT), path.join(folder, FAST_REFINEMENT));
  writeFileSync(path.join(folder, 'METADATA.json'), JSON.stringify(item()));
  const dead = `http://127.0.0.1:${await closedPort()}`;
  const { result } = await pull(dead, `${dead}/releases`);
  expect(result.from).toMatchObject({ kind: 'fast-folder', location: folder });
  expectInstalledTiny();
  expect((await readManifest(path.join(home, 'published'))).manifest.source).toBe(`fast-folder:${folder}`);

  const env = { H2G_MODELS_HOME: home, HOME: userHome };
  const cli = await runModelsCli(['import', '--name', 'fast'], env);
  expect(cli.error).toBeNull();
  expect(cli.stdout).toContain(`imported model set 'fast'`);
  expect(cli.stdout).toContain(`fast-folder:${folder}`);
  const none = await runModelsCli(['import'], { H2G_MODELS_HOME: home, HOME: tempDir('empty-user') });
  expect(none.error?.message).toContain('FAST/datahub');
});

test('pull prints the licence and author the hub reports', async () => {
  const zip = makeZip({ [FAST_PATCH]: path.join(tiny, PATCH), [FAST_REFINEMENT]: path.join(tiny, REFINEMENT) });
  server.routes.set(HUB_ITEM, { kind: 'file', data: Buffer.from(JSON.stringify(item())) });
  server.routes.set('h2g.zip', { kind: 'file', data: zip });
  const env = { H2G_MODELS_HOME: home, HOME: userHome, H2G_FAST_HUB_URL: origin, H2G_MODELS_URL: server.urlBase };
  const r = await runModelsCli(['pull'], env);
  expect(r.error).toBeNull();
  expect(r.stdout).toContain('FAST Data Hub: Breast tumour segmentation model: licence MIT');
  expect(r.stdout).toContain('author André Pedersen');
  expect(r.stdout).toContain("installed model set 'published'");
});

test('a zip entry that would land outside the folder is refused and writes nothing there', async () => {
  const dir = tempDir('unzip');
  const zipFile = path.join(dir, 'evil.zip');
  writeFileSync(zipFile, makeZip({ 'ok.txt': 'fine', '../evil.onnx': 'nope' }));
  await expect(extractZip(zipFile, path.join(dir, 'out'))).rejects.toThrow(/cannot extract|not a valid zip/);
  expect(existsSync(path.join(dir, 'evil.onnx'))).toBe(false);
  removeDirs(dir);
});
