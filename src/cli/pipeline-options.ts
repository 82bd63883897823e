/** The pipeline's command-line options, one definition for `h2g segment` and `h2g batch`. */
import { type Command, Option } from 'commander';
import { PRECISIONS } from '../models/manifest';
import { EXECUTION_PROVIDERS } from '../models/model-set';
import { withPrecision } from '../models/precision';
import { resolveModelDirectory } from '../models/select';
import { REFERENCE_NAMES } from '../pipeline/options';
import type { PipelineSettings, SettingKey } from '../pipeline/settings';
import { UsageError } from './errors';
import { addLimitOptions, checkThreads, limitArgs, limitOverridesFromFlags } from './limit-options';

/** What commander gives for the pipeline flags: the settings, with the limits as their raw flags. */
export type PipelineFlags = Omit<PipelineSettings, 'limits'>;

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

/** The settings the flags give; a usage error for a thread count or limit that cannot be meant. */
export function pipelineSettings(flags: PipelineFlags): PipelineSettings {
  checkThreads('--threads', flags.threads);
  const limits = limitOverridesFromFlags(flags as unknown as Record<string, unknown>);
  const given = SETTING_KEYS.flatMap((k) => (k === 'limits' || flags[k] === undefined ? [] : [[k, flags[k]] as const]));
  return { ...Object.fromEntries(given), limits } as PipelineSettings;
}

const optional =
  (flag: string) =>
  (v: string | number | undefined): string[] =>
    v === undefined ? [] : [flag, String(v)];

/**
 * How each setting is written back as the flags `addPipelineOptions` reads, for the command line of
 * a Slurm or shard task. Typed over the settings' keys: an option added to PipelineSettings does not
 * compile until it is written here, so it reaches every task.
 */
const FLAG_WRITERS: { [K in SettingKey]-?: (v: PipelineSettings[K]) => string[] } = {
  models: optional('--models'),
  precision: optional('--precision'),
  reference: optional('--reference'),
  mpp: optional('--mpp'),
  forceMpp: (v) => (v ? ['--force-mpp'] : []),
  tissueThreshold: optional('--tissue-threshold'),
  batchSize: optional('--batch-size'),
  smoothingUm: optional('--smoothing-um'),
  threads: optional('--threads'),
  provider: optional('--provider'),
  limits: limitArgs,
};
const SETTING_KEYS = Object.keys(FLAG_WRITERS) as SettingKey[];

/** The flags that give these settings (what `pipelineSettings` reads back, equal). */
export function pipelineArgs(settings: PipelineSettings): string[] {
  return SETTING_KEYS.flatMap((k) => (FLAG_WRITERS[k] as (v: unknown) => string[])(settings[k]));
}

/** The model directory the settings choose: `--models` (or the default selection), then `--precision`. */
export async function modelDirectoryOf(settings: PipelineSettings): Promise<string> {
  return withPrecision(await resolveModelDirectory({ explicit: settings.models }), settings.precision);
}
