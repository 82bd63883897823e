/**
 * The input/output contract of the published H2G-Net models, checked when a model loads, so a wrong
 * file fails at once with a message that says what was expected and what was found.
 */
import type { InferenceSession } from 'onnxruntime-node';
import { ModelError } from './errors';

type ValueMetadata = InferenceSession.ValueMetadata;
type Dim = number | string;

export interface PatchModelBinding {
  input: string;
  output: string;
}

export interface RefinementModelBinding {
  image: string;
  heatmap: string;
  output: string;
}

function describe(values: readonly ValueMetadata[]): string {
  if (values.length === 0) return 'none';
  return values
    .map((v) => (v.isTensor ? `${v.name} ${v.type} [${v.shape.join(',')}]` : `${v.name} (not a tensor)`))
    .join('; ');
}

function dimFits(dim: Dim | undefined, want: number): boolean {
  return typeof dim === 'string' || dim === undefined || dim === -1 || dim === want;
}

function tensorShape(v: ValueMetadata | undefined): readonly Dim[] | null {
  return v && v.isTensor && v.type === 'float32' ? v.shape : null;
}

/** NHWC [N, size, size, channels] with dynamic dims allowed. */
function isNhwc(v: ValueMetadata | undefined, size: number, channels: number): boolean {
  const s = tensorShape(v);
  return !!s && s.length === 4 && dimFits(s[1], size) && dimFits(s[2], size) && dimFits(s[3], channels);
}

export function checkPatchModel(
  file: string,
  inputs: readonly ValueMetadata[],
  outputs: readonly ValueMetadata[],
  patchSize: number,
): PatchModelBinding {
  const output = outputs[0];
  const outShape = tensorShape(output);
  const ok =
    inputs.length === 1 &&
    isNhwc(inputs[0], patchSize, 3) &&
    !!outShape &&
    outShape.length === 2 &&
    dimFits(outShape[1], 2);
  if (!ok) {
    throw new ModelError(
      'MODEL_CONTRACT',
      `${file} is not an H2G-Net patch classifier: expected one float32 input NHWC [N,${patchSize},${patchSize},3] ` +
        `and a float32 output [N,2] (2-class softmax); found inputs ${describe(inputs)}, outputs ${describe(outputs)}`,
    );
  }
  return { input: inputs[0]!.name, output: output!.name };
}

export function checkRefinementModel(
  file: string,
  inputs: readonly ValueMetadata[],
  outputs: readonly ValueMetadata[],
  size: number,
): RefinementModelBinding {
  // Tell the two inputs apart by their channel count, not by name: other exports rename them.
  const image = inputs.find((v) => isNhwc(v, size, 3) && tensorShape(v)?.[3] !== 1);
  const heatmap = inputs.find((v) => v !== image && isNhwc(v, size, 1));
  const output = outputs[0];
  const ok = inputs.length === 2 && image && heatmap && isNhwc(output, size, 2);
  if (!ok) {
    throw new ModelError(
      'MODEL_CONTRACT',
      `${file} is not an H2G-Net refinement network: expected float32 inputs image [1,${size},${size},3] and ` +
        `heatmap [1,${size},${size},1] and a float32 output [1,${size},${size},2]; ` +
        `found inputs ${describe(inputs)}, outputs ${describe(outputs)}`,
    );
  }
  return { image: image.name, heatmap: heatmap.name, output: output!.name };
}
