/**
 * How far an int8 set's results are from its float32 set's on the same slides: the tumour
 * probability per inferred patch (|difference| quantiles), the decisions at 0.5 that change, and the
 * Dice overlap of the refined masks (what becomes the annotations). `h2g models quantize` refuses to
 * install below MIN_MASK_DICE unless forced.
 */
import type { AgreementRecord } from '../models/manifest';
import type { BinaryMask } from '../pipeline/types';

export const MIN_MASK_DICE = 0.99;
const DECISION = 0.5;

export interface SlideAgreement {
  file: string;
  sha256: string;
  /** |int8 - float32| per inferred patch. */
  absDiff: Float64Array;
  flips: number;
  /** Mask pixels: tumour in both, in the float32 mask, in the int8 mask. */
  both: number;
  reference: number;
  candidate: number;
}

export interface AgreementSummary extends Omit<AgreementRecord, 'forced'> {
  patches: number;
  perSlide: (SlideAgreement & { dice: number; quantiles: Quantiles })[];
  passed: boolean;
}

export interface Quantiles {
  p50: number;
  p95: number;
  max: number;
}

/** Dice of two masks given as counts; two empty masks agree perfectly. */
export function dice(both: number, reference: number, candidate: number): number {
  return reference + candidate === 0 ? 1 : (2 * both) / (reference + candidate);
}

/** Nearest-rank quantiles (no interpolation: every figure is a difference that occurred). */
export function quantiles(values: Float64Array): Quantiles {
  if (values.length === 0) return { p50: 0, p95: 0, max: 0 };
  const sorted = Float64Array.from(values).sort();
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return { p50: at(0.5), p95: at(0.95), max: sorted[sorted.length - 1]! };
}

/** One slide: the heatmaps at the inferred `cells`, and the two refined masks. */
export function compareSlide(
  slide: { file: string; sha256: string },
  cells: readonly number[],
  reference: { heatmap: Float32Array; mask: BinaryMask },
  candidate: { heatmap: Float32Array; mask: BinaryMask },
): SlideAgreement {
  const absDiff = new Float64Array(cells.length);
  let flips = 0;
  cells.forEach((cell, i) => {
    const a = reference.heatmap[cell]!;
    const b = candidate.heatmap[cell]!;
    absDiff[i] = Math.abs(a - b);
    if (a > DECISION !== b > DECISION) flips += 1;
  });
  const m = reference.mask.data;
  const n = candidate.mask.data;
  if (m.length !== n.length) throw new Error('the two masks differ in size');
  let both = 0;
  let ref = 0;
  let cand = 0;
  for (let i = 0; i < m.length; i++) {
    const a = m[i]! > 0;
    const b = n[i]! > 0;
    if (a) ref += 1;
    if (b) cand += 1;
    if (a && b) both += 1;
  }
  return { ...slide, absDiff, flips, both, reference: ref, candidate: cand };
}

/** All validation slides together; the install decision is on the pooled Dice. */
export function summarise(slides: readonly SlideAgreement[]): AgreementSummary {
  const all = new Float64Array(slides.reduce((a, s) => a + s.absDiff.length, 0));
  let offset = 0;
  for (const s of slides) {
    all.set(s.absDiff, offset);
    offset += s.absDiff.length;
  }
  const sum = (f: (s: SlideAgreement) => number): number => slides.reduce((a, s) => a + f(s), 0);
  const perSlide = slides.map((s) => ({
    ...s,
    dice: dice(s.both, s.reference, s.candidate),
    quantiles: quantiles(s.absDiff),
  }));
  const maskDice = dice(
    sum((s) => s.both),
    sum((s) => s.reference),
    sum((s) => s.candidate),
  );
  return {
    slides: slides.map((s) => ({ file: s.file, sha256: s.sha256, patches: s.absDiff.length })),
    heatmapAbsDiff: quantiles(all),
    decisionFlipShare: all.length === 0 ? 0 : sum((s) => s.flips) / all.length,
    maskDice,
    minSlideMaskDice: Math.min(...perSlide.map((s) => s.dice)),
    patches: all.length,
    perSlide,
    passed: maskDice >= MIN_MASK_DICE,
  };
}

/** What the manifest keeps. */
export function agreementRecord(s: AgreementSummary, forced: boolean): AgreementRecord {
  const { slides, heatmapAbsDiff, decisionFlipShare, maskDice, minSlideMaskDice } = s;
  return { slides, heatmapAbsDiff, decisionFlipShare, maskDice, minSlideMaskDice, forced };
}

const f4 = (v: number): string => v.toFixed(4);
const pct = (flips: number, n: number): string => `${flips} (${n === 0 ? '0.00' : ((100 * flips) / n).toFixed(2)}%)`;

/** The table `h2g models quantize` prints. */
export function formatAgreement(summary: AgreementSummary, referenceName: string): string {
  const width = Math.max(5, ...summary.perSlide.map((s) => s.file.length));
  const row = (cols: string[]): string =>
    [cols[0]!.padEnd(width), ...cols.slice(1).map((c, i) => c.padStart([8, 9, 9, 9, 14, 10][i]!))].join(' ');
  const lines = [
    `agreement with '${referenceName}' (float32) on ${summary.slides.length} slide(s) not used for calibration:`,
    row(['slide', 'patches', '|d| p50', 'p95', 'max', 'flips at 0.5', 'mask Dice']),
  ];
  for (const s of summary.perSlide) {
    const q = s.quantiles;
    lines.push(
      row([
        s.file,
        String(s.absDiff.length),
        f4(q.p50),
        f4(q.p95),
        f4(q.max),
        pct(s.flips, s.absDiff.length),
        f4(s.dice),
      ]),
    );
  }
  const q = summary.heatmapAbsDiff;
  const flips = Math.round(summary.decisionFlipShare * summary.patches);
  lines.push(
    row([
      'all',
      String(summary.patches),
      f4(q.p50),
      f4(q.p95),
      f4(q.max),
      pct(flips, summary.patches),
      f4(summary.maskDice),
    ]),
  );
  lines.push(
    summary.passed
      ? `mask Dice ${f4(summary.maskDice)} >= ${MIN_MASK_DICE}: the int8 set agrees with the float32 set`
      : `mask Dice ${f4(summary.maskDice)} < ${MIN_MASK_DICE}: the int8 set does NOT agree well enough with the float32 set`,
  );
  if (summary.passed && summary.minSlideMaskDice < MIN_MASK_DICE) {
    lines.push(
      `warning: one slide's mask Dice is ${f4(summary.minSlideMaskDice)}; look at that slide before relying on int8`,
    );
  }
  return `${lines.join('\n')}\n`;
}
