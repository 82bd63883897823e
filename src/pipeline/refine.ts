/**
 * Stage 2: the refinement network sees the low-resolution image and the patch heatmap, both stretched
 * to its square input (aspect ratio not preserved, as the reference does), and returns the tumour mask.
 */
import type { RefinementModelBinding } from '../models/contract';
import type { LoadedModel } from '../models/model-set';
import type { RgbImage } from '../slide/source';
import { resizeBilinear } from './resize';
import type { BinaryMask, Heatmap } from './types';

export interface RefinementInputs {
  image: Float32Array;
  heatmap: Float32Array;
}

/**
 * This project's 'h2g' rule, one input at a time (the image is ready before the last patch is, so it
 * is made while the patches infer): stretched bilinearly at pixel centres, the image divided by 255.
 */
export function refinementImage(lowRes: RgbImage, size: number): Float32Array {
  const image = resizeBilinear(lowRes.data, lowRes.width, lowRes.height, 3, size, size);
  for (let i = 0; i < image.length; i++) image[i] = image[i]! / 255;
  return image;
}

export function refinementHeatmap(heatmap: Heatmap, size: number): Float32Array {
  return resizeBilinear(heatmap.values, heatmap.cols, heatmap.rows, 1, size, size);
}

export function refinementInputs(lowRes: RgbImage, heatmap: Heatmap, size: number): RefinementInputs {
  return { image: refinementImage(lowRes, size), heatmap: refinementHeatmap(heatmap, size) };
}

/** A pixel is tumour when its tumour channel is > 0.5 and not below the other channel. */
export function softmaxToMask(scores: Float32Array, size: number, tumourChannel: number): BinaryMask {
  const data = new Uint8Array(size * size);
  const other = 1 - tumourChannel;
  for (let i = 0; i < data.length; i++) {
    const t = scores[i * 2 + tumourChannel]!;
    if (t > 0.5 && t >= scores[i * 2 + other]!) data[i] = 255;
  }
  return { width: size, height: size, data };
}

export async function refine(
  model: LoadedModel<RefinementModelBinding>,
  inputs: RefinementInputs,
  size: number,
  tumourChannel: number,
): Promise<BinaryMask> {
  const { output } = await model.engine.run(
    {
      [model.binding.image]: { data: inputs.image, dims: [1, size, size, 3] },
      [model.binding.heatmap]: { data: inputs.heatmap, dims: [1, size, size, 1] },
    },
    { output: model.binding.output, dims: [1, size, size, 2] },
  );
  return softmaxToMask(output, size, tumourChannel);
}
