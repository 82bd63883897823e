/**
 * Slurm's own command-line tools, run as child processes (no daemon protocol of our own): `sbatch` to
 * submit, `squeue` to follow, `sacct` (when the cluster keeps accounting) or `scontrol` for the end
 * state of each array task, `scancel` only in tests. A missing tool or a refusal becomes one clear line.
 */
import { execFile } from 'node:child_process';
import { BatchSetupError } from '../errors';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(tool: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(tool, args, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(
          new BatchSetupError(
            `Slurm's '${tool}' is not installed here (not found on PATH): --executor slurm needs the Slurm client tools (Debian: slurm-client) on a host that can submit jobs; without Slurm, run without --executor slurm`,
          ),
        );
        return;
      }
      const code = err
        ? typeof (err as { code?: unknown }).code === 'number'
          ? (err as { code: number }).code
          : 1
        : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function firstLine(text: string): string {
  return text.trim().split('\n').filter(Boolean).join(' ') || 'no message';
}

/** Submits a batch script; returns the job id. */
export async function sbatch(script: string): Promise<string> {
  const r = await run('sbatch', ['--parsable', script]);
  if (r.code !== 0) throw new BatchSetupError(`Slurm refused the job: ${firstLine(r.stderr || r.stdout)}`);
  const id = r.stdout.trim().split(';')[0]!;
  if (!/^\d+$/.test(id)) throw new BatchSetupError(`sbatch answered '${r.stdout.trim()}' instead of a job id`);
  return id;
}

/** State of each array task still known to squeue (queued or running), by task index. */
export async function squeueTasks(jobId: string): Promise<Map<string, string>> {
  const r = await run('squeue', ['-h', '-r', '-j', jobId, '-o', '%i|%T']);
  const states = new Map<string, string>();
  // An ended job can be unknown to squeue ("Invalid job id specified"): nothing is queued or running.
  if (r.code !== 0) {
    if (/invalid job id/i.test(r.stderr)) return states;
    throw new BatchSetupError(`squeue failed: ${firstLine(r.stderr)}`);
  }
  for (const line of r.stdout.split('\n')) {
    const [id, state] = line.trim().split('|');
    if (id && state) states.set(id.includes('_') ? id.split('_')[1]! : id, state);
  }
  return states;
}

/**
 * End state of each array task (COMPLETED, FAILED, CANCELLED, TIMEOUT, OUT_OF_MEMORY...): sacct when
 * the cluster keeps accounting, else scontrol (which knows jobs for MinJobAge after they end), else empty.
 */
export async function finalTaskStates(jobId: string): Promise<Map<string, string>> {
  const states = new Map<string, string>();
  const acct = await run('sacct', ['-n', '-P', '-X', '-j', jobId, '-o', 'JobID,State']).catch(() => null);
  if (acct && acct.code === 0 && acct.stdout.trim() !== '') {
    for (const line of acct.stdout.split('\n')) {
      const [id, state] = line.trim().split('|');
      const m = id ? /_(\d+)$/.exec(id) : null;
      if (m && state) states.set(m[1]!, state.split(' ')[0]!);
    }
    return states;
  }
  const show = await run('scontrol', ['-o', 'show', 'job', jobId]).catch(() => null);
  if (show && show.code === 0) {
    for (const line of show.stdout.split('\n')) {
      const task = /\bArrayTaskId=(\d+)\b/.exec(line);
      const state = /\bJobState=(\S+)/.exec(line);
      if (task && state) states.set(task[1]!, state[1]!);
    }
  }
  return states;
}
