/**
 * The inference thread (see engine.ts): onnxruntime sessions live here, so that `session.run`, which
 * onnxruntime-node runs on the calling JavaScript thread, never blocks the main thread's event loop.
 * Every output is checked here, off the main thread too: the expected shape exactly, and finite.
 */
import * as ort from 'onnxruntime-node';
import { Moved, buffersOf, serveCalls } from '../workers/rpc';
import { ModelError } from './errors';
import type { SessionLoad, TensorData, WireMetadata } from './engine';

const sessions = new Map<number, { session: ort.InferenceSession; file: string }>();
let nextId = 1;

function metadata(values: readonly ort.InferenceSession.ValueMetadata[]): WireMetadata[] {
  return values.map((v) => (v.isTensor ? { name: v.name, isTensor: true, type: v.type, shape: [...v.shape] } : v));
}

async function load(load: SessionLoad): Promise<{ id: number; inputs: WireMetadata[]; outputs: WireMetadata[] }> {
  const { threads } = load;
  const session = await ort.InferenceSession.create(load.file, {
    executionProviders: [load.provider],
    graphOptimizationLevel: 'all',
    ...(threads > 0 ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {}),
  });
  const id = nextId++;
  sessions.set(id, { session, file: load.file });
  return { id, inputs: metadata(session.inputMetadata), outputs: metadata(session.outputMetadata) };
}

/** How many values are NaN or infinite. */
function nonFinite(data: Float32Array): number {
  let n = 0;
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) n++;
  return n;
}

async function run(
  id: number,
  feeds: Record<string, TensorData>,
  expect: { output: string; dims: readonly number[] },
): Promise<Moved<{ output: Float32Array; inputs: Record<string, Float32Array>; modelSeconds: number }>> {
  const entry = sessions.get(id);
  if (!entry) throw new Error(`no session ${id}`);
  const tensors = Object.fromEntries(
    Object.entries(feeds).map(([name, t]) => [name, new ort.Tensor('float32', t.data, [...t.dims])]),
  );
  const started = performance.now();
  const outputs = await entry.session.run(tensors);
  const modelSeconds = (performance.now() - started) / 1000;
  const out = outputs[expect.output];
  const dims = out ? [...out.dims] : [];
  if (
    !out ||
    out.type !== 'float32' ||
    dims.length !== expect.dims.length ||
    dims.some((d, i) => d !== expect.dims[i])
  ) {
    throw new ModelError(
      'MODEL_INVALID',
      `${entry.file} gave output ${expect.output} as ${out?.type ?? 'nothing'} [${dims.join(',')}] for this call, ` +
        `expected float32 [${expect.dims.join(',')}]: not a working H2G-Net model`,
    );
  }
  const output = new Float32Array(out.data as Float32Array);
  const bad = nonFinite(output);
  if (bad > 0) {
    throw new ModelError(
      'MODEL_INVALID',
      `${entry.file} gave ${bad} NaN or infinite values of ${output.length} in output ${expect.output}: ` +
        'the model is broken (or its weights are damaged)',
    );
  }
  const inputs = Object.fromEntries(Object.entries(feeds).map(([name, t]) => [name, t.data]));
  return new Moved({ output, inputs, modelSeconds }, [output.buffer, ...buffersOf(Object.values(inputs))]);
}

async function release(id: number): Promise<void> {
  const entry = sessions.get(id);
  sessions.delete(id);
  await entry?.session.release();
}

export const engineHandlers = { load, run, release };
export type EngineHandlers = typeof engineHandlers;

serveCalls(engineHandlers);
