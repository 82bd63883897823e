/**
 * Progress of a batch: on a terminal two cli-progress bars on stderr, slides (with the cohort's ETA)
 * and the current slide's patches (with its ETA); otherwise pino lines, one per finished slide (with
 * the cohort's ETA) and the pipeline's stages at debug level.
 */
import cliProgress from 'cli-progress';
import type { Logger } from '../log';
import type { ProgressEvent } from '../pipeline/types';
import type { SlideStatus } from './slide-output';

export interface SlideOutcome {
  name: string;
  status: SlideStatus;
  cached: boolean;
  seconds: number;
  error: string | null;
}

export interface BatchProgress {
  begin(total: number): void;
  slideStarted(name: string): void;
  pipeline(event: ProgressEvent): void;
  slideDone(outcome: SlideOutcome): void;
  end(): void;
}

export function createBatchProgress(log: Logger, interactive = Boolean(process.stderr.isTTY)): BatchProgress {
  return interactive ? new BarProgress() : new LogProgress(log);
}

class BarProgress implements BatchProgress {
  private multi: cliProgress.MultiBar | null = null;
  private slides: cliProgress.SingleBar | null = null;
  private patches: cliProgress.SingleBar | null = null;
  private done = 0;

  begin(total: number): void {
    this.multi = new cliProgress.MultiBar(
      {
        format: '{label} [{bar}] {value}/{total} | ETA {eta_formatted} | {detail}',
        stream: process.stderr,
        etaBuffer: 20,
        hideCursor: true,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    this.slides = this.multi.create(total, 0, { label: 'slides ', detail: '' });
    this.patches = this.multi.create(1, 0, { label: 'patches', detail: '' });
  }

  slideStarted(name: string): void {
    this.slides?.update(this.done, { detail: name });
  }

  pipeline(e: ProgressEvent): void {
    if (e.stage === 'patches' && e.total > 0) {
      if (e.done === 0) this.patches?.start(e.total, 0, { label: 'patches', detail: '' });
      else this.patches?.update(e.done);
    } else if (e.stage !== 'done') this.patches?.update({ detail: e.stage });
  }

  slideDone(o: SlideOutcome): void {
    this.done++;
    const what = o.status === 'ok' ? (o.cached ? 'cached' : 'done') : o.status;
    this.slides?.update(this.done, { detail: `${o.name}: ${what}` });
  }

  end(): void {
    this.multi?.stop();
    this.multi = null;
  }
}

class LogProgress implements BatchProgress {
  private total = 0;
  private done = 0;
  private computed = 0;
  private computeSeconds = 0;

  constructor(private readonly log: Logger) {}

  begin(total: number): void {
    this.total = total;
  }

  slideStarted(name: string): void {
    this.log.debug({ slide: name }, 'slide started');
  }

  pipeline(e: ProgressEvent): void {
    if (e.done === 0) this.log.debug({ stage: e.stage, total: e.total }, `stage ${e.stage}`);
  }

  slideDone(o: SlideOutcome): void {
    this.done++;
    if (o.status === 'ok' && !o.cached) {
      this.computed++;
      this.computeSeconds += o.seconds;
    }
    // Slides still to come are assumed uncached: the mean of the ones computed so far.
    const eta = this.computed > 0 ? (this.computeSeconds / this.computed) * (this.total - this.done) : null;
    const fields = {
      slide: o.name,
      status: o.status,
      cached: o.cached,
      seconds: +o.seconds.toFixed(2),
      done: this.done,
      total: this.total,
      ...(eta !== null ? { etaSeconds: Math.round(eta) } : {}),
      ...(o.error ? { error: o.error } : {}),
    };
    if (o.status === 'failed') this.log.warn(fields, 'slide failed');
    else this.log.info(fields, 'slide finished');
  }

  end(): void {}
}
