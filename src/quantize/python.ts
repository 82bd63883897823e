/**
 * Runs scripts/quantize_patch_model.py: onnxruntime's quantization tooling exists only in Python, so
 * the project's Python environment (.venv, scripts/setup-python.sh) does the arithmetic and we do
 * everything around it (sampling, checking, installing).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { REPO_ROOT } from '../models/demo-set';
import { ModelError } from '../models/errors';

const execFileAsync = promisify(execFile);
export const QUANTIZER = path.join(REPO_ROOT, 'scripts', 'quantize_patch_model.py');
export const QUANTIZE_PYTHON_ENV = 'H2G_QUANTIZE_PYTHON';

const ReportSchema = z.object({
  onnxruntime: z.string(),
  onnx: z.string(),
  method: z.string(),
  patches: z.number().int(),
  quantizeLinear: z.number().int(),
  dequantizeLinear: z.number().int(),
  seconds: z.number(),
});
export type QuantizerReport = z.infer<typeof ReportSchema>;

/** $H2G_QUANTIZE_PYTHON, else the repository's .venv, else python3 on the PATH. */
export function quantizerPython(env: NodeJS.ProcessEnv): string {
  const venv = path.join(REPO_ROOT, '.venv', 'bin', 'python');
  return env[QUANTIZE_PYTHON_ENV] ?? (existsSync(venv) ? venv : 'python3');
}

export async function runQuantizer(
  args: { model: string; patches: string; out: string },
  env: NodeJS.ProcessEnv,
): Promise<QuantizerReport> {
  const python = quantizerPython(env);
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync(
      python,
      [QUANTIZER, '--model', args.model, '--patches', args.patches, '--out', args.out],
      { maxBuffer: 16 << 20, env: { ...env, PYTHONDONTWRITEBYTECODE: '1' } },
    ));
  } catch (err) {
    const e = err as { code?: string | number; stderr?: string; message: string };
    const lines = (e.stderr ?? '').split('\n').filter((l) => l.trim() && !/\bWARNING\b|\[W:onnxruntime/.test(l));
    const reason = e.code === 'ENOENT' ? `${python} not found` : (lines.pop() ?? e.message).trim();
    throw new ModelError(
      'MODEL_INVALID',
      `the quantizer (${QUANTIZER}, run by ${python}) failed: ${reason}\n` +
        `It needs the project's Python environment with onnxruntime: bash scripts/setup-python.sh ` +
        `(or set ${QUANTIZE_PYTHON_ENV} to a python that has onnxruntime >= 1.20 and onnx >= 1.16).`,
      { cause: err },
    );
  }
  const last = stdout.trim().split('\n').pop() ?? '';
  let json: unknown = null;
  try {
    json = JSON.parse(last);
  } catch {
    // reported below
  }
  const parsed = ReportSchema.safeParse(json);
  if (!parsed.success) throw new ModelError('MODEL_INVALID', `the quantizer printed no report: ${last.slice(0, 200)}`);
  return parsed.data;
}
