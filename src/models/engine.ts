/**
 * The one seam around the inference engine. onnxruntime-node's `session.run` computes on the
 * JavaScript thread that calls it: on the main thread a batch blocked health checks, GetInfo, cancels
 * and SIGTERM for its whole duration (seconds for a large batch). So every session lives on an
 * inference thread (engine-worker.ts, one per session), and the pipeline calls `InferenceEngine.run`,
 * an async function whose inputs move to that thread and back without copies. Outputs are checked
 * there per call: the shape the caller expects exactly, and finite values (MODEL_INVALID otherwise),
 * so a broken model is an error, never an empty result.
 */
import path from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import { WorkerClient, buffersOf, genericError, type SerializedError } from '../workers/rpc';
import type { EngineHandlers } from './engine-worker';
import { ModelError, type ModelErrorCode } from './errors';

export type ExecutionProvider = 'cpu' | 'webgpu' | 'cuda';
export type ValueMetadata = InferenceSession.ValueMetadata;
/** Metadata as it crosses threads (plain objects). */
export type WireMetadata = ValueMetadata;

export interface TensorData {
  data: Float32Array;
  dims: readonly number[];
}

export interface SessionLoad {
  file: string;
  provider: ExecutionProvider;
  /** Intra-op threads; 0 = onnxruntime's default. */
  threads: number;
}

export interface RunResult {
  /** The expected output, checked. */
  output: Float32Array;
  /** The feeds' arrays, handed back (the caller's own arrays were detached while they were away). */
  inputs: Record<string, Float32Array>;
  /** Seconds inside onnxruntime's `session.run` on the inference thread (what benchmarks compare to). */
  modelSeconds: number;
}

export interface InferenceEngine {
  readonly inputMetadata: readonly ValueMetadata[];
  readonly outputMetadata: readonly ValueMetadata[];
  /**
   * One inference call. The feeds' buffers move to the inference thread and come back in
   * `inputs`; until then the caller's arrays are detached (length 0). The output named `expect.output`
   * must have exactly `expect.dims` and only finite values, else the call rejects with ModelError
   * MODEL_INVALID.
   */
  run(feeds: Record<string, TensorData>, expect: { output: string; dims: readonly number[] }): Promise<RunResult>;
  release(): Promise<void>;
}

function revive(e: SerializedError): Error {
  if (e.name === 'ModelError' && e.code) return new ModelError(e.code as ModelErrorCode, e.message);
  return genericError(e);
}

/** One inference thread and the sessions it hosts. */
export class InferenceThread {
  private readonly client = new WorkerClient<EngineHandlers>(
    path.join(__dirname, 'engine-worker'),
    'h2g-inference',
    revive,
  );

  /** Loads a session on this thread; rejects with onnxruntime's error when it cannot. */
  async load(load: SessionLoad): Promise<InferenceEngine> {
    const { id, inputs, outputs } = await this.client.call('load', [load]);
    const client = this.client;
    return {
      inputMetadata: inputs,
      outputMetadata: outputs,
      run: (feeds, expect) =>
        client.call('run', [id, feeds, expect], buffersOf(Object.values(feeds).map((f) => f.data))),
      release: () => client.call('release', [id]),
    };
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
