/** The pipeline's command-line options, one definition for `h2g segment` and `h2g batch`. */
import { type Command, Option } from 'commander';
import { type Precision, PRECISIONS } from '../models/manifest';
import { EXECUTION_PROVIDERS, type ExecutionProvider } from '../models/model-set';
import type { Limits } from '../pipeline/limits';
import { REFERENCE_NAMES } from '../pipeline/options';
import type { ReferenceName } from '../pipeline/types';
import { UsageError } from './errors';
import { addLimitOptions, checkThreads, limitsFromFlags } from './limit-options';

export interface PipelineFlags {
  /** Model directory or installed set name; undefined = the default selection. */
  models?: string;
  /** The chosen set's sibling with this arithmetic; undefined = the set as it is. */
  precision?: Precision;
  mpp?: number;
  forceMpp?: boolean;
  tissueThreshold?: number;
  threads: number;
  batchSize?: number;
  provider: ExecutionProvider;
  smoothingUm?: number;
  reference?: ReferenceName;
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
  command
    .option(
      '-m, --models <dir-or-name>',
      'model directory or installed set (default: $H2G_MODELS, then the installed default)',
    )
    .addOption(
      new Option(
        '--precision <p>',
        "patch model arithmetic: the chosen set's int8 sibling (h2g models quantize) or float32 one (default: the set as it is)",
      ).choices(PRECISIONS),
    )
    .option(
      '--mpp <um/px>',
      "level-0 pixel size; overrides or supplies the slide's (0.05 to 50 unless --force-mpp)",
      number('mpp', 1e-6, 1e6),
    )
    .option('--force-mpp', "accept a pixel size (given or the slide's) outside 0.05 to 50 um/px")
    .option(
      '--tissue-threshold <share>',
      'tissue share of a patch needed to infer it (0.5)',
      number('tissue-threshold', 0.001, 1),
    )
    .option('--batch-size <n>', 'patches per inference call', number('batch-size', 1, 512, true))
    .option('--threads <n>', 'inference threads (0 = chosen for this machine)', number('threads', 0, 1024, true), 0)
    .addOption(new Option('--provider <name>', 'execution provider').choices([...EXECUTION_PROVIDERS]).default('cpu'))
    .option(
      '--smoothing-um <um>',
      'smooth the mask: erode r, dilate 2r, erode r (0 = none, as the reference)',
      number('smoothing-um', 0, 10000),
    )
    .addOption(
      new Option('--reference <rules>', "rule set (README: FastPathology's rules)")
        .choices([...REFERENCE_NAMES])
        .default('fast'),
    );
  return addLimitOptions(command);
}

/** The limits the flags give; also checks the thread count (a usage error when it cannot be meant). */
export function pipelineLimits(flags: PipelineFlags): Limits {
  checkThreads('--threads', flags.threads);
  return limitsFromFlags(flags as unknown as Record<string, unknown>);
}
