/**
 * Model sets for the server: loaded once, shared by all jobs (onnxruntime sessions are safe to run
 * concurrently), keyed by real directory + provider + threads. A failed load is not cached, so a
 * user who installs models while the server runs does not have to restart it.
 */
import { realpath } from 'node:fs/promises';
import type { Logger } from '../log';
import { type ExecutionProvider, type ModelSet, loadModelSet } from '../models/model-set';
import { resolveModelDirectory, resolveModelSetName } from '../models/select';

export interface ModelRegistryOptions {
  /** `--models` (a directory or an installed set's name); null = $H2G_MODELS, else the default set. */
  explicit: string | null;
  provider: ExecutionProvider;
  threads: number;
  env?: NodeJS.ProcessEnv;
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

  /** The set a request names ('' = the server's default); only installed names, never paths. */
  async get(name: string): Promise<ModelSet> {
    const dir = name === '' ? await this.defaultDirectory() : await resolveModelSetName(name, this.options.env);
    return this.load(dir);
  }

  private async load(dir: string): Promise<ModelSet> {
    const real = await realpath(dir).catch(() => dir);
    const key = `${real}\0${this.options.provider}\0${this.options.threads}`;
    let pending = this.cache.get(key);
    if (!pending) {
      const started = performance.now();
      pending = loadModelSet(real, { provider: this.options.provider, threads: this.options.threads });
      this.cache.set(key, pending);
      pending.then(
        (set) => {
          this.loaded.set(key, set);
          this.log.info(
            { modelSet: set.name, directory: set.directory, ms: Math.round(performance.now() - started) },
            'model set loaded',
          );
        },
        () => this.cache.delete(key),
      );
    }
    return pending;
  }

  /** Sets loaded so far (for GetInfo). */
  loadedSets(): ModelSet[] {
    return [...this.loaded.values()];
  }

  async releaseAll(): Promise<void> {
    const sets = [...this.loaded.values()];
    this.cache.clear();
    this.loaded.clear();
    await Promise.allSettled(sets.map((s) => s.release()));
  }
}
