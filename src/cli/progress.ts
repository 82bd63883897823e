/**
 * Progress for the CLI: a cli-progress bar on stderr when it is a terminal, otherwise pino log lines
 * (one per stage and about every 10% of the patches), so CI logs stay readable.
 */
import cliProgress from 'cli-progress';
import type { Logger } from '../log';
import type { ProgressEvent } from '../pipeline/types';

export function createProgressReporter(
  log: Logger,
  interactive = Boolean(process.stderr.isTTY),
): {
  onProgress: (e: ProgressEvent) => void;
  stop: () => void;
} {
  let bar: cliProgress.SingleBar | null = null;
  let lastStage = '';
  let lastLoggedTenth = -1;
  return {
    onProgress: (e) => {
      if (e.stage !== lastStage) {
        bar?.stop();
        bar = null;
        lastStage = e.stage;
        lastLoggedTenth = -1;
        if (interactive && e.stage === 'patches' && e.total > 0) {
          bar = new cliProgress.SingleBar(
            {
              format: 'patches [{bar}] {value}/{total} | {percentage}% | ETA {eta}s',
              stream: process.stderr,
              etaBuffer: 50,
            },
            cliProgress.Presets.shades_classic,
          );
          bar.start(e.total, 0);
        } else if (!interactive) {
          log.info(
            { stage: e.stage, total: e.total, elapsedSeconds: +e.elapsedSeconds.toFixed(2) },
            `stage ${e.stage}`,
          );
        }
        return;
      }
      if (bar) bar.update(e.done);
      else if (!interactive && e.stage === 'patches' && e.total > 0) {
        const tenth = Math.floor((10 * e.done) / e.total);
        if (tenth > lastLoggedTenth) {
          lastLoggedTenth = tenth;
          log.info({ stage: e.stage, done: e.done, total: e.total, etaSeconds: +e.etaSeconds.toFixed(1) }, 'patches');
        }
      }
    },
    stop: () => {
      bar?.stop();
      bar = null;
    },
  };
}
