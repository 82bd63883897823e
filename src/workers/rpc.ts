/**
 * Calls into one long-lived worker thread: the main side (`WorkerClient`) sends `{id, method, args}`,
 * the worker side (`serveCalls`) runs the named handler and answers with its value or its error.
 *
 * Why our own and not a pool library (piscina, workerpool): the inference worker owns stateful
 * onnxruntime sessions that later calls must reach on the same thread, in order; pools assume
 * interchangeable stateless workers. What is needed is a message id, transfers both ways, typed
 * errors across the boundary and a worker that does not keep a finished CLI process alive.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { type Transferable, Worker, parentPort } from 'node:worker_threads';

type Handler = (...args: never[]) => unknown;
export type Handlers = Record<string, Handler>;

interface Call {
  id: number;
  method: string;
  args: unknown[];
}

export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  limit?: string;
}

type Answer = { id: number; value: unknown } | { id: number; error: SerializedError };

/** A handler's value with the buffers to move (not copy) back to the caller. */
export class Moved<T> {
  constructor(
    readonly value: T,
    readonly transfer: Transferable[],
  ) {}
}

/** The buffers under typed arrays, once each (a list with one twice cannot be transferred). */
export function buffersOf(arrays: readonly ArrayBufferView[]): ArrayBuffer[] {
  return [...new Set(arrays.map((a) => a.buffer as ArrayBuffer))];
}

/** Worker side: answers calls from the parent with these handlers until the thread ends. */
export function serveCalls(handlers: Handlers): void {
  const port = parentPort;
  if (!port) throw new Error('serveCalls runs inside a worker thread');
  port.on('message', (call: Call) => {
    void (async () => {
      try {
        const handler = handlers[call.method];
        if (!handler) throw new Error(`no handler '${call.method}'`);
        const result = await (handler as (...args: unknown[]) => unknown)(...call.args);
        if (result instanceof Moved) port.postMessage({ id: call.id, value: result.value }, result.transfer);
        else port.postMessage({ id: call.id, value: result });
      } catch (err) {
        const e = err as Error & { code?: unknown; limit?: unknown };
        const error: SerializedError = { name: e?.name ?? 'Error', message: e?.message ?? String(err) };
        if (typeof e?.code === 'string') error.code = e.code;
        if (typeof e?.limit === 'string') error.limit = e.limit;
        port.postMessage({ id: call.id, error });
      }
    })();
  });
}

/**
 * The thread for a worker module: its compiled .js (dist/); from the TypeScript sources (tests run
 * them through ts-jest, which does not reach worker threads) the module is transpiled on load with
 * the TypeScript compiler, a dev dependency.
 */
function startWorker(entry: string, name: string): Worker {
  if (existsSync(`${entry}.js`)) return new Worker(`${entry}.js`, { name });
  const bootstrap = `
    const { workerData } = require('node:worker_threads');
    const fs = require('node:fs');
    const ts = require(workerData.typescript);
    require.extensions['.ts'] = (module, filename) => {
      const options = { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true };
      const out = ts.transpileModule(fs.readFileSync(filename, 'utf8'), { fileName: filename, compilerOptions: options });
      module._compile(out.outputText, filename);
    };
    require(workerData.entry);`;
  const typescript = require.resolve('typescript', { paths: [path.dirname(entry)] });
  return new Worker(bootstrap, { eval: true, name, workerData: { entry: `${entry}.ts`, typescript } });
}

/** Main side: calls into one worker thread, started at construction. */
export class WorkerClient<H extends Handlers> {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private dead: Error | null = null;

  /**
   * `entry`: the worker module's path without extension. `revive` turns an error thrown in the
   * worker back into the caller's error classes.
   */
  constructor(
    entry: string,
    name: string,
    private readonly revive: (e: SerializedError) => Error,
  ) {
    this.worker = startWorker(entry, name);
    this.worker.unref();
    this.worker.on('message', (answer: Answer) => this.settle(answer));
    this.worker.on('error', (err) => this.die(err));
    this.worker.on('exit', (code) => this.die(new Error(`the ${name} thread exited (code ${code})`)));
  }

  call<K extends keyof H & string>(
    method: K,
    args: Parameters<H[K]>,
    transfer: Transferable[] = [],
  ): Promise<Awaited<ReturnType<H[K]>> extends Moved<infer T> ? T : Awaited<ReturnType<H[K]>>> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    // Referenced only while a call is pending: an idle worker never keeps the process alive.
    if (this.pending.size === 0) this.worker.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      try {
        this.worker.postMessage({ id, method, args } satisfies Call, transfer);
      } catch (err) {
        // An argument that cannot be cloned or moved: no answer will come, so let go of the call.
        this.settle({ id, error: { name: (err as Error).name, message: (err as Error).message } });
      }
    });
  }

  async close(): Promise<void> {
    this.die(new Error('the worker thread was closed'));
    await this.worker.terminate();
  }

  private settle(answer: Answer): void {
    const p = this.pending.get(answer.id);
    if (!p) return;
    this.pending.delete(answer.id);
    if (this.pending.size === 0) this.worker.unref();
    if ('error' in answer) p.reject(this.revive(answer.error));
    else p.resolve(answer.value);
  }

  private die(err: Error): void {
    this.dead ??= err;
    for (const p of this.pending.values()) p.reject(this.dead);
    this.pending.clear();
  }
}

/** A plain Error carrying the worker error's name and code (for errors no caller class revives). */
export function genericError(e: SerializedError): Error {
  return Object.assign(new Error(e.message), { name: e.name, code: e.code });
}
