/**
 * `h2g models pull`: the published H2G-Net weights, from the first source that works: FastPathology's
 * own copy in ~/FAST/datahub (no network), FAST's Data Hub, then the authors' GitHub release (the two
 * files downloaded into a staging directory and installed only once both are complete and checked).
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_DOWNLOAD_OPTIONS, DownloadError, type DownloadOptions, downloadToFile } from './download';
import { PUBLISHED_FILES } from './manifest';
import { checkSetName, cleanupStale, createStaging, type ModelRole, PUBLISHED_SET, ROLES } from './store';
import { finishInstall, type InstallResult } from './store-install';
import { ModelError } from './errors';
import { fastDatahubFolder, type HubItem, type HubSource, importFastFolder, itemUrl, pullFromHub } from './hub';

export const DEFAULT_URL_BASE = 'https://github.com/AICAN-Research/H2G-Net/releases/download/pretrained-models';
export const MODELS_URL_ENV = 'H2G_MODELS_URL';

/** Sizes of the released files where known (H2GNET.md); the patch model's size is not documented. */
export const PUBLISHED_SIZES: Readonly<Partial<Record<ModelRole, number>>> = { refinement: 46_313_140 };

export interface PullOptions {
  home: string;
  urlBase: string;
  name?: string;
  /** Defaults to PUBLISHED_SIZES; tests serving small stand-in files pass their own. */
  expectedSizes?: Partial<Record<ModelRole, number>>;
  download?: Partial<Omit<DownloadOptions, 'onProgress'>>;
  onFileStart?: (file: string, url: string) => void;
  onProgress?: (file: string, received: number, total: number | null) => void;
  onFileDone?: (file: string, bytes: number) => void;
}

export function fileUrl(urlBase: string, file: string): string {
  return `${urlBase.replace(/\/+$/, '')}/${file}`;
}

/** What to do when the download cannot work: get the files some other way and import them. */
export function manualInstallHint(urlBase: string): string {
  return [
    'To install the weights by hand: on a machine with network access download',
    ...ROLES.map((r) => `  ${fileUrl(urlBase, PUBLISHED_FILES[r])}`),
    "(or get the same two files from FastPathology's model hub or a colleague), copy both into one folder here",
    'and run:  h2g models import <folder> --name published',
  ].join('\n');
}

export async function pullModels(options: PullOptions): Promise<InstallResult> {
  const { home, urlBase } = options;
  const name = checkSetName(options.name ?? PUBLISHED_SET);
  await cleanupStale(home);
  const staging = await createStaging(home);
  try {
    for (const role of ROLES) {
      const file = PUBLISHED_FILES[role];
      const url = fileUrl(urlBase, file);
      options.onFileStart?.(file, url);
      const { bytes } = await downloadToFile(url, path.join(staging, file), {
        ...DEFAULT_DOWNLOAD_OPTIONS,
        ...options.download,
        onProgress: (received, total) => options.onProgress?.(file, received, total),
      });
      options.onFileDone?.(file, bytes);
    }
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    if (err instanceof DownloadError) {
      throw new DownloadError(err.code, err.url, `download failed: ${err.message}\n${manualInstallHint(urlBase)}`, {
        cause: err,
      });
    }
    throw err;
  }
  return finishInstall(home, staging, {
    name,
    source: urlBase,
    demo: false,
    description: 'H2G-Net published weights (AICAN-Research/H2G-Net release pretrained-models)',
    expectedSizes: options.expectedSizes ?? PUBLISHED_SIZES,
  });
}

export interface PublishedPullOptions extends PullOptions {
  /** FAST's Data Hub; null = skip it (and FastPathology's folder). */
  hubUrl: string | null;
  env?: NodeJS.ProcessEnv;
  /** Each source as it is tried, and why one did not work. */
  onSource?: (what: string) => void;
  onSourceFailed?: (what: string, reason: string) => void;
  onHubItem?: (item: HubItem, url: string) => void;
}

export interface PublishedPullResult extends InstallResult {
  /** Where the files came from; `item` is the hub's description (licence, author) when known. */
  from: HubSource | { kind: 'release'; location: string };
}

/** FastPathology's folder, then the hub, then the release; the error lists why each failed. */
export async function pullPublished(options: PublishedPullOptions): Promise<PublishedPullResult> {
  const name = checkSetName(options.name ?? PUBLISHED_SET);
  const failures: string[] = [];
  const failed = (what: string, err: unknown): void => {
    const reason = (err as Error).message.split('\n')[0] ?? String(err);
    failures.push(`${what}: ${reason}`);
    options.onSourceFailed?.(what, reason);
  };
  if (options.hubUrl !== null) {
    const folder = fastDatahubFolder(options.env);
    try {
      const local = await importFastFolder({ home: options.home, name, ...(options.env ? { env: options.env } : {}) });
      if (local) return local;
    } catch (err) {
      failed(`FastPathology's folder ${folder}`, err);
    }
    options.onSource?.(`FAST Data Hub ${itemUrl(options.hubUrl)}`);
    try {
      return await pullFromHub({
        home: options.home,
        name,
        hubUrl: options.hubUrl,
        ...(options.download ? { download: options.download } : {}),
        ...(options.onHubItem ? { onItem: options.onHubItem } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      });
    } catch (err) {
      failed("FAST's Data Hub", err);
    }
  }
  options.onSource?.(`GitHub release ${options.urlBase}`);
  try {
    const result = await pullModels({ ...options, name });
    return { ...result, from: { kind: 'release', location: options.urlBase } };
  } catch (err) {
    if (failures.length === 0) throw err;
    const message = `no source worked:\n  ${[...failures, `the GitHub release: ${(err as Error).message}`].join('\n  ')}`;
    throw err instanceof DownloadError
      ? new DownloadError(err.code, err.url, message, { cause: err })
      : new ModelError('MODEL_NOT_FOUND', message, { cause: err });
  }
}
