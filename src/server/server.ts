/**
 * The gRPC server: wires config, path policy, models, job queue and the two services together,
 * binds, and shuts down gracefully (health NOT_SERVING, no new jobs, grace period for running ones).
 */
import { availableParallelism } from 'node:os';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { SegmentationService } from '../generated/h2gnet/v1/segmentation';
import type { Logger } from '../log';
import { segmentSlide } from '../pipeline/segment';
import { OpenSlide } from '../slide/openslide';
import type { SlideSource } from '../slide/source';
import { authInterceptor } from './auth';
import { type ServerConfig, bindAddress, checkConfig, effectiveThreads } from './config';
import { Health } from './health';
import { tolerantDecoding } from './malformed';
import { JobQueue } from './jobs/queue';
import { JobRunner, type SegmentFn } from './jobs/runner';
import { ModelRegistry } from './models';
import { PathPolicy } from './paths';
import { segmentationService } from './service';

/** Replaceable parts, for tests that need to watch slides open and close. */
export interface ServerDeps {
  segment?: SegmentFn;
  openSlide?: (realPath: string) => Promise<SlideSource>;
  /** Environment for model selection ($H2G_MODELS, the models home); default process.env. */
  env?: NodeJS.ProcessEnv;
}

export class H2gServer {
  private shuttingDown: Promise<void> | null = null;

  private constructor(
    readonly port: number,
    readonly config: ServerConfig,
    private readonly grpc: Server,
    private readonly runner: JobRunner,
    private readonly models: ModelRegistry,
    private readonly health: Health,
    private readonly log: Logger,
  ) {}

  /** Checks the config, binds, and resolves once listening (the port is known then). */
  static async start(config: ServerConfig, log: Logger, deps: ServerDeps = {}): Promise<H2gServer> {
    checkConfig(config);
    const policy = await PathPolicy.create(config.allowRoots);
    const models = new ModelRegistry(
      {
        explicit: config.modelsDir,
        provider: config.provider,
        threads: effectiveThreads(config, availableParallelism()),
        precision: config.precision,
        env: deps.env,
      },
      log,
    );
    const queue = new JobQueue({ maxConcurrent: config.maxConcurrent, maxQueue: config.maxQueue });
    const runner = new JobRunner(queue, models, deps.segment ?? segmentSlide, config.limits);
    const grpc = new Server({
      interceptors: config.token ? [authInterceptor(config.token, log)] : [],
      'grpc.max_receive_message_length': config.maxMessageBytes,
    });
    grpc.addService(
      tolerantDecoding(SegmentationService),
      segmentationService({
        config,
        runner,
        models,
        policy,
        openSlide: deps.openSlide ?? ((p) => OpenSlide.open(p, { limits: config.limits })),
        log,
      }),
    );
    const health = new Health();
    health.addTo(grpc);
    const credentials = config.tls
      ? ServerCredentials.createSsl(null, [{ cert_chain: config.tls.cert, private_key: config.tls.key }], false)
      : ServerCredentials.createInsecure();
    const port = await new Promise<number>((resolve, reject) =>
      grpc.bindAsync(bindAddress(config.host, config.port), credentials, (err, p) => (err ? reject(err) : resolve(p))),
    );
    // Load the default model set in the background: READY comes at once, the first job waits for it.
    models
      .get('')
      .catch((err: unknown) =>
        log.warn({ err: (err as Error).message }, 'no default model set yet; jobs will fail until one is installed'),
      );
    log.info(
      {
        host: config.host,
        port,
        tls: config.tls !== null,
        authRequired: config.token !== null,
        allowRoots: policy.roots,
        maxConcurrent: config.maxConcurrent,
        maxQueue: config.maxQueue,
      },
      'listening',
    );
    return new H2gServer(port, config, grpc, runner, models, health, log);
  }

  /** Jobs running, waiting, and known to the runner (running + waiting + finishing). */
  get stats(): { running: number; queued: number; active: number } {
    return this.runner.stats;
  }

  /**
   * Graceful stop: NOT_SERVING, new jobs UNAVAILABLE, queued ones UNAVAILABLE, running ones get
   * `graceSeconds` (default: the config's) and are then cancelled. Safe to call twice.
   */
  shutdown(graceSeconds = this.config.graceSeconds): Promise<void> {
    this.shuttingDown ??= this.doShutdown(graceSeconds);
    return this.shuttingDown;
  }

  private async doShutdown(graceSeconds: number): Promise<void> {
    this.log.info({ graceSeconds, ...this.runner.stats }, 'shutting down');
    this.health.setServing(false);
    await this.runner.drain(graceSeconds * 1000, this.log);
    // Open Health.Watch streams never end by themselves: give calls a moment, then cut them.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.grpc.forceShutdown();
        resolve();
      }, 1000);
      this.grpc.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    await this.models.releaseAll();
    this.log.info('stopped');
  }
}
