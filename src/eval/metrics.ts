/**
 * Per-slide overlap of a predicted and a true tumour mask, and the set's mean +- standard deviation,
 * as the paper reports them (H2GNET.md "Evaluation"). Undefined values are null and left out of the
 * means: recall when the slide has no true tumour, precision when nothing was predicted. Dice is 1
 * when both are empty (they agree) and 0 when only one is. The standard deviation is the population
 * one (numpy's default, which the authors' eval.py uses).
 */

export interface Overlap {
  truthPixels: number;
  predictedPixels: number;
  truePositives: number;
  dice: number;
  recall: number | null;
  precision: number | null;
}

export function overlap(predicted: Uint8Array, truth: Uint8Array): Overlap {
  if (predicted.length !== truth.length) throw new Error('masks of different sizes');
  let tp = 0;
  let p = 0;
  let t = 0;
  for (let i = 0; i < truth.length; i++) {
    const a = predicted[i] !== 0;
    const b = truth[i] !== 0;
    if (a) p++;
    if (b) t++;
    if (a && b) tp++;
  }
  return {
    truthPixels: t,
    predictedPixels: p,
    truePositives: tp,
    dice: p + t === 0 ? 1 : (2 * tp) / (p + t),
    recall: t === 0 ? null : tp / t,
    precision: p === 0 ? null : tp / p,
  };
}

export interface Summary {
  mean: number | null;
  std: number | null;
  n: number;
}

export function summarise(values: readonly (number | null)[]): Summary {
  const xs = values.filter((v): v is number => v !== null);
  if (xs.length === 0) return { mean: null, std: null, n: 0 };
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length;
  return { mean, std: Math.sqrt(variance), n: xs.length };
}

export const METRICS = ['dice', 'recall', 'precision'] as const;
export type Metric = (typeof METRICS)[number];
