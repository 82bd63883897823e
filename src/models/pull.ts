/**
 * `h2g models pull`: the two published H2G-Net files from the authors' GitHub release, downloaded
 * into a staging directory and installed only once both are complete and checked.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_DOWNLOAD_OPTIONS, DownloadError, type DownloadOptions, downloadToFile } from './download';
import { PUBLISHED_FILES } from './manifest';
import { checkSetName, cleanupStale, createStaging, type ModelRole, PUBLISHED_SET, ROLES } from './store';
import { finishInstall, type InstallResult } from './store-install';

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
