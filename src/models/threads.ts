/**
 * How many threads one CPU inference call gets when the user leaves `--threads` at 0.
 *
 * onnxruntime's own default is one thread per physical core, all spinning through every operator.
 * While the patch model infers, the pipeline also decodes the next batch's tiles and runs the event
 * loop; on a machine with a CPU for every inference thread those preempt inference threads, and each
 * operator then waits for its slowest thread. Measured on 16 cores (H200 host, dense benchmark slide;
 * docs/README-bench-pipeline.md): end to end 9.24 s with 16 threads, 8.14 s with 14, 8.23 s with 12,
 * 9.16 s with 10; on 8 of its cores 15.29 s with 8 threads and 14.37 s with 6. On 2 cores leaving
 * one core out would halve inference, and onnxruntime's default measured best there.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';

export interface CpuCount {
  /** CPUs this process may run on. */
  logical: number;
  /** Physical cores among them (equal to `logical` where it cannot be told). */
  physical: number;
}

/** Logical CPUs kept free for tile decoding and the event loop on machines of 8 or more. */
const RESERVED_CPUS = 2;
const MIN_CPUS_TO_RESERVE = 8;

/**
 * Intra-op threads for one CPU inference call; 0 leaves the choice to onnxruntime. With 8 or more
 * logical CPUs, two of them are left to the rest of the pipeline; on a machine with hyper-threads
 * onnxruntime's one thread per physical core already leaves the siblings free, so nothing changes.
 */
export function defaultInferenceThreads(cpus: CpuCount): number {
  if (cpus.logical < MIN_CPUS_TO_RESERVE) return 0;
  return Math.max(1, Math.min(cpus.physical, cpus.logical - RESERVED_CPUS));
}

/**
 * Physical cores under a Linux sysfs CPU directory: the distinct `thread_siblings_list` files of
 * its `cpuN` entries (hyper-thread siblings share one). null where the directory or the files are
 * missing (not Linux, or a restricted container).
 */
export function physicalCoresFromSysfs(cpuDir = '/sys/devices/system/cpu'): number | null {
  try {
    const siblings = new Set<string>();
    for (const name of readdirSync(cpuDir)) {
      if (!/^cpu\d+$/.test(name)) continue;
      try {
        siblings.add(readFileSync(path.join(cpuDir, name, 'topology', 'thread_siblings_list'), 'utf8').trim());
      } catch {
        // an offline CPU has no topology directory
      }
    }
    return siblings.size > 0 ? siblings.size : null;
  } catch {
    return null;
  }
}

/** This machine's CPU count as `defaultInferenceThreads` needs it. */
export function machineCpus(): CpuCount {
  const logical = availableParallelism();
  const physical = physicalCoresFromSysfs() ?? logical;
  return { logical, physical: Math.min(physical, logical) };
}
