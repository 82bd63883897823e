/** The pipeline's command-line options, one definition for `h2g segment` and `h2g batch`. */
import { type Command, Option } from 'commander';
import { EXECUTION_PROVIDERS, type ExecutionProvider } from '../models/model-set';
import { UsageError } from './errors';

export interface PipelineFlags {
  /** Model directory or installed set name; undefined = the default selection. */
  models?: string;
  mpp?: number;
  tissueThreshold?: number;
  threads: number;
  batchSize?: number;
  provider: ExecutionProvider;
  smoothingUm?: number;
}

export function number(name: string, min: number, max: number, integer = false) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      throw new UsageError(
        `--${name} must be ${integer ? 'a whole number' : 'a number'} between ${min} and ${max}, got '${value}'`,
      );
    }
    return n;
  };
}

export function addPipelineOptions(command: Command): Command {
  return command
    .option(
      '-m, --models <dir-or-name>',
      'model directory or installed set (default: $H2G_MODELS, then the installed default)',
    )
    .option('--mpp <um/px>', "level-0 pixel size; overrides or supplies the slide's", number('mpp', 0.01, 100))
    .option(
      '--tissue-threshold <share>',
      'tissue share of a patch needed to infer it (reference 0.5)',
      number('tissue-threshold', 0.001, 1),
    )
    .option('--batch-size <n>', 'patches per inference call', number('batch-size', 1, 512, true))
    .option('--threads <n>', 'inference threads (0 = chosen for this machine)', number('threads', 0, 1024, true), 0)
    .addOption(new Option('--provider <name>', 'execution provider').choices([...EXECUTION_PROVIDERS]).default('cpu'))
    .option(
      '--smoothing-um <um>',
      'smooth the mask: erode r, dilate 2r, erode r (0 = none, as the reference)',
      number('smoothing-um', 0, 10000),
    );
}
