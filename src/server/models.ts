/**
 * Model sets for the server: loaded once, shared by all jobs (onnxruntime sessions are safe to run
 * concurrently), keyed by real directory + provider + threads. A failed load is not cached, so a
 * user who installs models while the server runs does not have to restart it.
 */
import { realpath } from 'node:fs/promises';
import type { Logger } from '../log';
import { type Precision, PRECISIONS } from '../models/manifest';
import { type ExecutionProvider, type ModelSet, loadWarmModelSet } from '../models/model-set';
import { DEFAULT_OPTIONS } from '../pipeline/types';
import { withPrecision } from '../models/precision';
import { resolveModelDirectory, resolveModelSetName } from '../models/select';
import { InvalidOptionError } from '../pipeline/errors';

export interface ModelRegistryOptions {
  /** `--models` (a directory or an installed set's name); null = $H2G_MODELS, else the default set. */
  explicit: string | null;
  provider: ExecutionProvider;
  threads: number;
  /** `--precision`: requests that do not say get this; null = the set as it is. */
  precision: Precision | null;
  env?: NodeJS.ProcessEnv;
}

/** A request's precision: '' = the server's, else one of PRECISIONS. */
export function requestPrecision(value: string, serverDefault: Precision | null): Precision | undefined {
  if (value === '') return serverDefault ?? undefined;
  if ((PRECISIONS as readonly string[]).includes(value)) return value as Precision;
  throw new InvalidOptionError(
    `precision must be ${PRECISIONS.join(' or ')} (or empty for the server's), got '${value}'`,
  );
}

export class ModelRegistry {
  private readonly cache = new Map<string, Promise<ModelSet>>();
  private readonly loaded = new Map<string, ModelSet>();

  constructor(
    private readonly options: ModelRegistryOptions,
    private readonly log: Logger,
  ) {}

  /** The default set's directory; rejects with a ModelError saying how to install one. */
  defaultDirectory(): Promise<string> {
    return resolveModelDirectory({ explicit: this.options.explicit ?? undefined, env: this.options.env });
  }

  /**
   * The set a request names ('' = the server's default; only installed names, never paths), or its
   * sibling of the requested precision ('' = the server's --precision).
   */
  async get(name: string, precision = ''): Promise<ModelSet> {
    const wanted = requestPrecision(precision, this.options.precision);
    const dir = name === '' ? await this.defaultDirectory() : await resolveModelSetName(name, this.options.env);
    return this.load(await withPrecision(dir, wanted, this.options.env));
  }

  private async load(dir: string): Promise<ModelSet> {
    const real = await realpath(dir).catch(() => dir);
    const key = `${real}\0${this.options.provider}\0${this.options.threads}`;
    let pending = this.cache.get(key);
    if (!pending) {
      const started = performance.now();
      // Warmed up (on a GPU) at the default batch size, so no job pays a first run's compilation.
      const options = { provider: this.options.provider, threads: this.options.threads };
      pending = loadWarmModelSet(real, options, DEFAULT_OPTIONS.batchSize).then(({ set, warmedUp }) => {
        this.loaded.set(key, set);
        this.log.info(
          { modelSet: set.name, directory: set.directory, warmedUp, ms: Math.round(performance.now() - started) },
          'model set loaded',
        );
        return set;
      });
      this.cache.set(key, pending);
      pending.then(
        () => undefined,
        () => this.cache.delete(key),
      );
    }
    return pending;
  }

  /** Sets loaded so far (for GetInfo). */
  loadedSets(): ModelSet[] {
    return [...this.loaded.values()];
  }

  /**
   * Releases every set, including those still loading: a process that exits while onnxruntime is
   * creating a session on its thread can die of a signal instead of exiting 0.
   */
  async releaseAll(): Promise<void> {
    const pending = [...this.cache.values()];
    this.cache.clear();
    this.loaded.clear();
    const sets = await Promise.allSettled(pending);
    await Promise.allSettled(sets.map((s) => (s.status === 'fulfilled' ? s.value.release() : undefined)));
  }
}
