import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { loadModelSet } from '../../src/models/model-set';
import { defaultInferenceThreads, machineCpus, physicalCoresFromSysfs } from '../../src/models/threads';
import { MODELS } from '../helpers/paths';

describe('defaultInferenceThreads', () => {
  it.each([
    [{ logical: 1, physical: 1 }, 0],
    [{ logical: 2, physical: 2 }, 0],
    [{ logical: 4, physical: 4 }, 0],
    [{ logical: 8, physical: 4 }, 4],
    [{ logical: 8, physical: 8 }, 6],
    [{ logical: 16, physical: 16 }, 14],
    [{ logical: 16, physical: 8 }, 8],
    [{ logical: 64, physical: 64 }, 62],
    [{ logical: 8, physical: 1 }, 1],
  ])('%o -> %i (0 = onnxruntime default)', (cpus, threads) => {
    expect(defaultInferenceThreads(cpus)).toBe(threads);
  });
});

describe('physicalCoresFromSysfs', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'h2g-sysfs-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const cpu = (n: number, siblings: string | null) => {
    mkdirSync(path.join(dir, `cpu${n}`, 'topology'), { recursive: true });
    if (siblings !== null)
      writeFileSync(path.join(dir, `cpu${n}`, 'topology', 'thread_siblings_list'), `${siblings}\n`);
  };

  it('counts hyper-thread siblings once, skipping offline CPUs and other entries', () => {
    cpu(0, '0,2');
    cpu(1, '1,3');
    cpu(2, '0,2');
    cpu(3, '1,3');
    cpu(4, null); // offline: no topology file
    mkdirSync(path.join(dir, 'cpufreq'));
    expect(physicalCoresFromSysfs(dir)).toBe(2);
  });

  it('one core per CPU without hyper-threads', () => {
    for (let n = 0; n < 6; n++) cpu(n, String(n));
    expect(physicalCoresFromSysfs(dir)).toBe(6);
  });

  it('null where nothing can be read', () => {
    expect(physicalCoresFromSysfs(dir)).toBeNull();
    expect(physicalCoresFromSysfs(path.join(dir, 'missing'))).toBeNull();
  });
});

it('machineCpus: logical CPUs as Node counts them, physical cores between 1 and that', () => {
  const cpus = machineCpus();
  expect(cpus.logical).toBe(availableParallelism());
  expect(cpus.physical).toBeGreaterThanOrEqual(1);
  expect(cpus.physical).toBeLessThanOrEqual(cpus.logical);
});

describe('loadModelSet resolves the thread count once, as its sessions use it', () => {
  it.each([
    [3, 3],
    [0, defaultInferenceThreads(machineCpus())],
  ])('--threads %i -> %i', async (threads, expected) => {
    const models = await loadModelSet(MODELS.tiny, { provider: 'cpu', threads });
    try {
      expect(models.threads).toBe(expected);
      expect(models.provider).toBe('cpu');
    } finally {
      await models.release();
    }
  });
});
