/**
 * `h2g models quantize <set> --calibrate <slides...>`: an int8 version of an installed float32 set,
 * calibrated on the user's own slides and checked against the float32 set before it is installed
 * (src/quantize/quantize.ts). Without --validate, the last third of the --calibrate slides (at least
 * one) is held out for the agreement check and not used for calibration.
 */
import { Command } from 'commander';
import { modelsHome } from '../models/store';
import { quantizeModelSet } from '../quantize/quantize';
import { UsageError } from './errors';
import { type CliIo, reportInstall } from './io';
import { number } from './pipeline-options';

interface QuantizeFlags {
  calibrate: string[];
  validate?: string[];
  name?: string;
  patches: number;
  force?: boolean;
  mpp?: number;
  threads: number;
  batchSize: number;
  dest?: string;
}

/** The calibration and validation slides: as given, or the last third of --calibrate held out. */
export function splitSlides(
  calibrate: string[],
  validate: string[] | undefined,
): { calibrate: string[]; validate: string[] } {
  if (validate?.length) return { calibrate, validate };
  if (calibrate.length < 2) {
    throw new UsageError(
      'give --validate <slides...> (slides not used for calibration, to measure agreement on), ' +
        'or at least two --calibrate slides (the last third of them is then held out)',
    );
  }
  const held = Math.max(1, Math.floor(calibrate.length / 3));
  return { calibrate: calibrate.slice(0, -held), validate: calibrate.slice(-held) };
}

export function quantizeCommand(io: CliIo): Command {
  return new Command('quantize')
    .description(
      "make and install a static int8 version of a set's patch model, calibrated on your slides and checked against it",
    )
    .argument('<set>', 'the float32 model set (installed name or directory)')
    .requiredOption(
      '--calibrate <slides...>',
      'slides to calibrate on (a few typical ones; patches are spread over their tissue)',
    )
    .option(
      '--validate <slides...>',
      'slides to measure agreement on, not used for calibration (default: hold out the last third of --calibrate)',
    )
    .option('--name <name>', "name of the installed int8 set (default '<set>-int8', what --precision int8 looks for)")
    .option('--patches <n>', 'calibration patches in all', number('patches', 16, 10000, true), 300)
    .option('--force', 'install even when the refined masks agree below Dice 0.99')
    .option('--mpp <um/px>', 'level-0 pixel size for slides that have none', number('mpp', 0.01, 100))
    .option('--threads <n>', 'inference threads (0 = chosen for this machine)', number('threads', 0, 1024, true), 0)
    .option('--batch-size <n>', 'patches per inference call', number('batch-size', 1, 512, true), 16)
    .option('--dest <dir>', 'models home to install into (default: $H2G_MODELS_HOME, else the XDG cache)')
    .action(async (set: string, flags: QuantizeFlags) => {
      const slides = splitSlides(flags.calibrate, flags.validate);
      if (!flags.validate?.length) {
        io.stderr.write(`holding out for the agreement check (not calibrated on): ${slides.validate.join(', ')}\n`);
      }
      const outcome = await quantizeModelSet({
        home: modelsHome(io.env, flags.dest),
        source: set,
        ...(flags.name ? { name: flags.name } : {}),
        ...slides,
        patches: flags.patches,
        force: flags.force ?? false,
        ...(flags.mpp !== undefined ? { mpp: flags.mpp } : {}),
        threads: flags.threads,
        batchSize: flags.batchSize,
        env: io.env,
        progress: (line) => io.stderr.write(`${line}\n`),
        report: (text) => io.stdout.write(text),
      });
      if (!outcome.agreement.passed)
        io.stderr.write('warning: installed with --force although the agreement is below the threshold\n');
      reportInstall(io, 'installed', outcome.install);
    });
}
