/**
 * The pipeline flags as one PipelineSettings, and `pipelineArgs` writing them back for a batch's
 * tasks: what a task parses from them equals what the submitter had, for every setting.
 */
import { Command } from 'commander';
import { addPipelineOptions, pipelineArgs, type PipelineFlags, pipelineSettings } from '../../src/cli/pipeline-options';
import type { PipelineSettings } from '../../src/pipeline/settings';

function parse(args: readonly string[]): PipelineSettings {
  const command = addPipelineOptions(new Command('t').exitOverride());
  command.parse(['node', 't', ...args]);
  return pipelineSettings(command.opts<PipelineFlags>());
}

const EVERY: PipelineSettings = {
  models: '/models/a set',
  precision: 'int8',
  reference: 'h2g',
  mpp: 0.04,
  forceMpp: true,
  tissueThreshold: 0.35,
  batchSize: 7,
  smoothingUm: 12.5,
  threads: 3,
  provider: 'cuda',
  limits: { maxPatches: 5, maxJobMemoryMiB: 512.5, maxGridCells: 40 },
};

test('flags -> settings: only what was given, defaults for provider, threads and rule set', () => {
  expect(parse([])).toEqual({ reference: 'fast', threads: 0, provider: 'cpu', limits: {} });
  expect(parse(['--max-patches', '9', '--mpp', '0.3'])).toEqual({
    reference: 'fast',
    threads: 0,
    provider: 'cpu',
    mpp: 0.3,
    limits: { maxPatches: 9 },
  });
});

test('settings -> flags -> settings is the identity, every setting included', () => {
  expect(parse(pipelineArgs(EVERY))).toEqual(EVERY);
  expect(parse(pipelineArgs(parse([])))).toEqual(parse([]));
  // Each setting changed alone changes the flags (none is dropped on the way to a task).
  for (const key of Object.keys(EVERY) as (keyof PipelineSettings)[]) {
    const without = { ...EVERY, [key]: key === 'limits' ? {} : undefined } as PipelineSettings;
    if (key === 'threads' || key === 'provider') continue; // always given
    expect(pipelineArgs(without)).not.toEqual(pipelineArgs(EVERY));
  }
});

test('a bad limit or thread count is a usage error naming its flag', () => {
  expect(() => parse(['--max-patches', '0'])).toThrow(/--max-patches must be a whole number > 0, got 0/);
  expect(() => parse(['--threads', '1024'])).toThrow(/--threads 1024 is more than 4 per CPU/);
});
