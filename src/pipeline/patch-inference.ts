/**
 * Batched patch inference with onnxruntime: the next batch is read (on libuv's threads) while the
 * current one runs (on onnxruntime's threads), so slide I/O hides behind inference.
 */
import type { SlideSource } from '../slide/source';
import type { LoadedModel } from '../models/model-set';
import type { PatchModelBinding } from '../models/contract';
import { CancelledError } from './errors';
import type { PatchGrid } from './grid';
import { readPatchesInto } from './patch-reader';

export interface PatchInferenceRequest {
  source: SlideSource;
  grid: PatchGrid;
  /** Cells to infer, as row * cols + col, in the order they are processed. */
  cells: readonly number[];
  model: LoadedModel<PatchModelBinding>;
  tumourChannel: number;
  batchSize: number;
  /** How many threads read a batch at once (sources that read natively); see `cpuReaders`. */
  readers?: number;
  signal?: AbortSignal;
  /** Called after each batch with its cells and their tumour probabilities. */
  onBatch?: (cells: readonly number[], probabilities: Float32Array) => void;
}

interface ReadBatch {
  cells: readonly number[];
  tensor: Float32Array;
}

async function readBatch(
  req: PatchInferenceRequest,
  cells: readonly number[],
  buffer: Float32Array,
): Promise<ReadBatch> {
  const p = req.grid.patchSize;
  const tensor = buffer.subarray(0, cells.length * p * p * 3);
  await readPatchesInto(req.source, req.grid, cells, tensor, req.readers);
  return { cells, tensor };
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError();
}

/** Tumour probability of each requested cell, in the order of `cells`. */
export async function inferPatches(req: PatchInferenceRequest): Promise<Float32Array> {
  const result = new Float32Array(req.cells.length);
  const batches: number[][] = [];
  for (let i = 0; i < req.cells.length; i += req.batchSize) batches.push(req.cells.slice(i, i + req.batchSize));
  const p = req.grid.patchSize;
  // Two batch tensors, reused: one is being inferred while the next is read into the other. A fresh
  // 12 MiB tensor per batch (at batch 16) left garbage for the GC and page faults for the kernel.
  const size = Math.min(req.batchSize, req.cells.length) * p * p * 3;
  // Each goes to the inference thread with its batch and comes back with the result (engine.ts).
  const buffers = [new Float32Array(size), new Float32Array(size)];
  let next: Promise<ReadBatch> | null = batches.length > 0 ? readBatch(req, batches[0]!, buffers[0]!) : null;
  let done = 0;
  try {
    for (let k = 0; k < batches.length; k++) {
      throwIfAborted(req.signal);
      // A read that fails because the job was cancelled (a pixel stream drops its requests) is a cancel.
      const current = await next!.catch((err: unknown) => {
        throwIfAborted(req.signal);
        throw err;
      });
      next = k + 1 < batches.length ? readBatch(req, batches[k + 1]!, buffers[(k + 1) % 2]!) : null;
      const n = current.cells.length;
      const { output: scores, inputs } = await req.model.engine.run(
        { [req.model.binding.input]: { data: current.tensor, dims: [n, p, p, 3] } },
        { output: req.model.binding.output, dims: [n, 2] },
      );
      buffers[k % 2] = new Float32Array(inputs[req.model.binding.input]!.buffer as ArrayBuffer);
      const probs = new Float32Array(current.cells.length);
      for (let i = 0; i < probs.length; i++) probs[i] = scores[i * 2 + req.tumourChannel]!;
      result.set(probs, done);
      done += probs.length;
      req.onBatch?.(current.cells, probs);
    }
  } finally {
    // A read still in flight when we stop must not surface as an unhandled rejection.
    next?.catch(() => undefined);
  }
  throwIfAborted(req.signal);
  return result;
}
