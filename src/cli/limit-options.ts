/** The resource limits (src/pipeline/limits.ts) as command-line flags of `h2g segment` and `h2g serve`. */
import { type Command, Option } from 'commander';
import { availableParallelism } from 'node:os';
import { LIMIT_SPECS, type Limits, resolveLimits } from '../pipeline/limits';
import { UsageError } from './errors';

const limitOption = (s: (typeof LIMIT_SPECS)[number]): Option =>
  new Option(`${s.flag} <n>`, `limit: ${s.description} (default ${s.default})`);

/** Adds one `--max-...` flag per limit; their values come back through `limitsFromFlags`. */
export function addLimitOptions(command: Command): Command {
  for (const s of LIMIT_SPECS) command.addOption(limitOption(s));
  return command;
}

/** The limits the flags give (only those given); a bad value is a usage error naming its flag. */
export function limitOverridesFromFlags(flags: Record<string, unknown>): Partial<Limits> {
  const overrides: Partial<Limits> = {};
  for (const s of LIMIT_SPECS) {
    const raw = flags[limitOption(s).attributeName()];
    if (raw === undefined) continue;
    const n = Number(raw);
    if (typeof raw !== 'string' || raw.trim() === '') throw new UsageError(`${s.flag} needs a number`);
    overrides[s.key] = n;
  }
  try {
    resolveLimits(overrides);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return overrides;
}

/** The limits the flags give, with the defaults for the others. */
export function limitsFromFlags(flags: Record<string, unknown>): Limits {
  return resolveLimits(limitOverridesFromFlags(flags));
}

/** The flags that give these limits back (what `limitOverridesFromFlags` reads). */
export function limitArgs(limits: Partial<Limits>): string[] {
  return LIMIT_SPECS.flatMap((s) => (limits[s.key] === undefined ? [] : [s.flag, String(limits[s.key])]));
}

/** Inference threads no machine needs: more than 4 per CPU only oversubscribes (and each costs a stack). */
export function maxThreads(): number {
  return availableParallelism() * 4;
}

export function checkThreads(flag: string, threads: number): void {
  if (threads > maxThreads()) {
    throw new UsageError(
      `${flag} ${threads} is more than 4 per CPU (${availableParallelism()} CPUs here: at most ${maxThreads()})`,
    );
  }
}
