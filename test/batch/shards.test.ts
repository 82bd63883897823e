/**
 * Shards: how slides are split among array tasks, and `--executor shards` run the way a Kubernetes
 * Indexed Job or any scheduler's array would run it (each shard's command with its index, then the
 * plain command merging the table with nothing recomputed).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { assignShards } from '../../src/batch/slurm/shards';
import { smallSlides } from '../helpers/batch-slides';
import { batchArgs, table } from '../helpers/batch';
import { runCli } from '../helpers/cli';

describe('assignShards', () => {
  test('equal sizes share a shard (duplicates are computed once, by one task)', () => {
    const shards = assignShards([500, 100, 500, 300, 100, 500], 3);
    expect(shards[0]).toBe(shards[2]);
    expect(shards[2]).toBe(shards[5]);
    expect(shards[1]).toBe(shards[4]);
  });

  test('bytes are balanced, largest first, and no more shards than distinct sizes', () => {
    const sizes = [90, 80, 70, 60, 50, 40, 30, 20, 10];
    const shards = assignShards(sizes, 3);
    const load = [0, 0, 0];
    sizes.forEach((s, i) => (load[shards[i]!]! += s));
    // Largest first: within 4/3 of a perfect split (Graham's bound for this rule); here 160, 150, 140.
    expect(Math.max(...load)).toBeLessThanOrEqual((4 / 3) * (450 / 3));
    expect(Math.min(...load)).toBeGreaterThanOrEqual(140);
    expect(new Set(assignShards([7, 7, 7], 3))).toEqual(new Set([0]));
  });
});

test('--executor shards: each shard run by its index, then the plain command merges, nothing recomputed', async () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'h2g-shards-'));
  const slides = smallSlides(3);
  const [out, cache] = [path.join(tmp, 'out'), path.join(tmp, 'cache')];
  const r = await runCli(batchArgs(slides, out, cache, '--executor', 'shards', '--shards', '2'));
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^3 of 3 slides in 2 shards: .*cohort\.json$/m);
  const command = /^ {2}(.*) --shard <i>$/m.exec(r.stdout)![1]!;
  for (const i of [0, 1]) {
    const shard = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile(
        'sh',
        ['-c', `${command} --shard ${i}`],
        { env: { ...process.env, H2G_LOG_LEVEL: 'warn' } },
        (err, _o, stderr) => resolve({ code: err ? 1 : 0, stderr }),
      ),
    );
    expect(shard).toEqual({ code: 0, stderr: '' });
  }
  const merged = await runCli(batchArgs(slides, out, cache));
  expect(merged.code).toBe(0);
  expect(merged.stdout).toContain('this run: 3 segmented (3 from the cache, 0 computed)');
  expect(table(out).map((row) => row.status)).toEqual(['ok', 'ok', 'ok']);
});
