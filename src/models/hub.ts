/**
 * FastPathology's model hub, FAST's Data Hub: the H2G-Net weights are its item
 * `breast-tumour-segmentation-model`. FAST's client asks `<hub>/api/items/get/<id>` for the item's JSON
 * (name, type, author, licence, `download_url`, `needs`), downloads the zip at `download_url` and
 * extracts it into `~/FAST/datahub/<id>/` (beside a METADATA.json). We do the same request and
 * download, then install the extracted files with `importModels`, which tells the two networks apart
 * by their input/output contract (FAST names them pw_tumour_mobilenetv2_model.onnx and
 * unet_tumour_refinement_model_fix-opset9.onnx). Users of FastPathology already have that folder:
 * it is imported with no network at all.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import { z } from 'zod';
import { DEFAULT_DOWNLOAD_OPTIONS, DownloadError, type DownloadOptions, downloadToFile } from './download';
import { ModelError } from './errors';
import { type ImportResult, importModels } from './import';

export const FAST_HUB_URL = 'https://fast-datahub.sintef.no';
export const HUB_URL_ENV = 'H2G_FAST_HUB_URL';
export const HUB_ITEM = 'breast-tumour-segmentation-model';
/** A model zip far larger than the two networks (~60 MB) is not this item. */
const MAX_UNZIPPED_BYTES = 1 << 30;

const HubItemSchema = z.looseObject({
  name: z.string().min(1),
  type: z.string().optional(),
  author: z.string().optional(),
  license_name: z.string().optional(),
  license_url: z.string().optional(),
  download_url: z.string().min(1),
  needs: z.array(z.unknown()).optional(),
});
export type HubItem = z.infer<typeof HubItemSchema>;

export interface HubSource {
  kind: 'fast-folder' | 'fast-hub';
  /** The folder imported, or the item URL. */
  location: string;
  item?: HubItem;
}

/** Where FastPathology keeps this item: `~/FAST/datahub/breast-tumour-segmentation-model`. */
export function fastDatahubFolder(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.HOME || os.homedir(), 'FAST', 'datahub', HUB_ITEM);
}

export function itemUrl(hubUrl: string, id = HUB_ITEM): string {
  return `${hubUrl.replace(/\/+$/, '')}/api/items/get/${encodeURIComponent(id)}`;
}

/** "licence X (url), author Y": what the hub says about who made the weights and on what terms. */
export function describeItem(item: HubItem): string {
  const licence = item.license_name
    ? `licence ${item.license_name}${item.license_url ? ` (${item.license_url})` : ''}`
    : 'licence not stated';
  return `${item.name}: ${licence}, author ${item.author ?? 'not stated'}`;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** Installs FastPathology's own copy of the item, if there is one. @returns null when there is none */
export async function importFastFolder(options: {
  home: string;
  name: string;
  env?: NodeJS.ProcessEnv;
}): Promise<(ImportResult & { from: HubSource }) | null> {
  const folder = fastDatahubFolder(options.env);
  if (!(await exists(folder))) return null;
  let item: HubItem | undefined;
  try {
    item = HubItemSchema.parse(JSON.parse(await readFile(path.join(folder, 'METADATA.json'), 'utf8')));
  } catch {
    item = undefined; // FAST wrote no (or a different) METADATA.json: the models themselves still decide
  }
  const result = await importModels([folder], {
    home: options.home,
    name: options.name,
    source: `fast-folder:${folder}`,
    description: item
      ? `FAST Data Hub item ${HUB_ITEM}, from FastPathology's folder; ${describeItem(item)}`
      : undefined,
  });
  return { ...result, from: { kind: 'fast-folder', location: folder, ...(item ? { item } : {}) } };
}

/** Asks the hub for the item, downloads and extracts its zip, installs the two networks. */
export async function pullFromHub(options: {
  home: string;
  name: string;
  hubUrl: string;
  download?: Partial<Omit<DownloadOptions, 'onProgress'>>;
  onItem?: (item: HubItem, url: string) => void;
  onProgress?: (file: string, received: number, total: number | null) => void;
}): Promise<ImportResult & { from: HubSource }> {
  await mkdir(options.home, { recursive: true });
  const work = await mkdtemp(path.join(options.home, '.hub-'));
  const download = { ...DEFAULT_DOWNLOAD_OPTIONS, ...options.download };
  try {
    const url = itemUrl(options.hubUrl);
    await downloadToFile(url, path.join(work, 'item.json'), download);
    let item: HubItem;
    try {
      item = HubItemSchema.parse(JSON.parse(await readFile(path.join(work, 'item.json'), 'utf8')));
    } catch (err) {
      throw new DownloadError(
        'HTTP',
        url,
        `${url} did not answer with a FAST Data Hub item: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    options.onItem?.(item, url);
    const zipUrl = new URL(item.download_url, url).toString();
    const zip = path.join(work, 'item.zip');
    await downloadToFile(zipUrl, zip, {
      ...download,
      onProgress: (received, total) => options.onProgress?.(path.basename(new URL(zipUrl).pathname), received, total),
    });
    // Wherever the zip keeps them (top level or a folder), the .onnx files are the candidates.
    const models = (await extractZip(zip, path.join(work, HUB_ITEM))).filter((f) => f.toLowerCase().endsWith('.onnx'));
    if (models.length === 0)
      throw new ModelError('MODEL_NOT_FOUND', `the hub's zip for ${HUB_ITEM} holds no .onnx file`);
    const result = await importModels(models, {
      home: options.home,
      name: options.name,
      source: url,
      description: `FAST Data Hub item ${HUB_ITEM}; ${describeItem(item)}`,
    });
    return { ...result, from: { kind: 'fast-hub', location: url, item } };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * Extracts the zip's regular files into `dest`. yauzl refuses absolute paths and `..` in entry names
 * (strictFileNames), so nothing lands outside `dest`; sizes are checked against the directory's.
 */
export async function extractZip(zipFile: string, dest: string): Promise<string[]> {
  await mkdir(dest, { recursive: true });
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(zipFile, { lazyEntries: true, strictFileNames: true, validateEntrySizes: true });
  } catch (err) {
    throw new ModelError('MODEL_INVALID', `the hub's download is not a valid zip file: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const written: string[] = [];
  let total = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on('error', reject);
      zip.on('end', resolve);
      zip.on('entry', (entry: yauzl.Entry) => {
        void (async () => {
          const target = path.resolve(dest, entry.fileName);
          if (target !== dest && !target.startsWith(dest + path.sep))
            throw new Error(`entry outside the folder: ${entry.fileName}`);
          if (entry.fileName.endsWith('/')) {
            await mkdir(target, { recursive: true });
          } else {
            total += entry.uncompressedSize;
            if (total > MAX_UNZIPPED_BYTES) throw new Error(`more than ${MAX_UNZIPPED_BYTES} bytes unzipped`);
            await mkdir(path.dirname(target), { recursive: true });
            await pipeline(await zip.openReadStreamPromise(entry), createWriteStream(target));
            written.push(target);
          }
          zip.readEntry();
        })().catch(reject);
      });
      zip.readEntry();
    });
  } catch (err) {
    throw new ModelError('MODEL_INVALID', `cannot extract the hub's zip: ${(err as Error).message}`, { cause: err });
  } finally {
    zip.close();
  }
  return written;
}
