/**
 * `--roi` takes a regular file of at most maxRoiFileBytes. Before: a FIFO blocked the command until
 * a writer came (forever), and /dev/zero was read until memory ran out.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers/cli';
import { MODELS, SHAPES_TIFF } from '../helpers/paths';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'h2g-roi-file-'));
const base = ['segment', SHAPES_TIFF, '--models', MODELS.tiny, '-o', path.join(tmp, 'never.geojson')];

test('a FIFO is refused at once (exit 2), without waiting for a writer', async () => {
  const fifo = path.join(tmp, 'roi.fifo');
  execFileSync('mkfifo', [fifo]);
  const r = await runCli([...base, '--roi', fifo]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain(`--roi ${fifo} is not a regular file`);
});

test('/dev/zero is refused at once (exit 2)', async () => {
  const r = await runCli([...base, '--roi', '/dev/zero']);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('--roi /dev/zero is not a regular file');
});

test('a file over maxRoiFileBytes is refused naming the limit; a directory too', async () => {
  const big = path.join(tmp, 'big.geojson');
  writeFileSync(big, Buffer.alloc(2048, 0x20));
  const r = await runCli([...base, '--roi', big, '--max-roi-file-bytes', '1024']);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain(
    'has 2048 bytes, more than the limit maxRoiFileBytes = 1024 (raise it with --max-roi-file-bytes)',
  );
  const dir = await runCli([...base, '--roi', tmp]);
  expect(dir.code).toBe(2);
  expect(dir.stderr).toContain('is not a regular file');
});
