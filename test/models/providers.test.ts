/**
 * A GPU provider that cannot start here fails at load with a message that names the provider and what
 * it needs; where it can start (a machine with such a GPU), it loads and infers as the CPU does.
 */
import { type ExecutionProvider, loadModelSet } from '../../src/models/model-set';
import { MODELS } from '../helpers/paths';

const NEEDS: Record<string, RegExp> = {
  webgpu: /webgpu needs a GPU with Vulkan: the Vulkan loader \(libvulkan1\)/,
  cuda: /cuda needs the CUDA libraries onnxruntime-node downloads at install/,
};

async function firstOutput(provider: ExecutionProvider): Promise<Float32Array> {
  const models = await loadModelSet(MODELS.tiny, { provider, threads: 1 });
  try {
    const { engine, binding } = models.patch;
    const size = models.parameters.patchSize;
    const input = new Float32Array(size * size * 3).map((_, i) => (i % 251) / 251);
    const { output } = await engine.run(
      { [binding.input]: { data: input, dims: [1, size, size, 3] } },
      { output: binding.output, dims: [1, 2] },
    );
    return output;
  } finally {
    await models.release();
  }
}

test.each(['webgpu', 'cuda'] as const)('%s: loads and agrees with cpu, or says what it needs', async (provider) => {
  const attempt = await loadModelSet(MODELS.tiny, { provider, threads: 1 }).then(
    (m) => m,
    (err: Error & { code?: string }) => err,
  );
  if (attempt instanceof Error) {
    expect(attempt.code).toBe('MODEL_INVALID');
    expect(attempt.message).toContain(`execution provider '${provider}' is not available here`);
    expect(attempt.message).toMatch(NEEDS[provider]!);
    // The process goes on: the CPU provider still loads.
    const cpu = await firstOutput('cpu');
    expect(cpu.length).toBeGreaterThan(0);
    return;
  }
  expect(attempt.provider).toBe(provider);
  await attempt.release();
  const [gpu, cpu] = [await firstOutput(provider), await firstOutput('cpu')];
  for (let i = 0; i < cpu.length; i++) expect(Math.abs(gpu[i]! - cpu[i]!)).toBeLessThan(1e-4);
});
