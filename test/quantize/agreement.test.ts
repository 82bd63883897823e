/** The agreement figures and the calibration sampling rules, against hand-computed values. */
import {
  agreementRecord,
  compareSlide,
  dice,
  formatAgreement,
  quantiles,
  summarise,
} from '../../src/quantize/agreement';
import { allocate, spread } from '../../src/quantize/calibration';

const mask = (bits: number[]) => ({ width: bits.length, height: 1, data: Uint8Array.from(bits, (b) => b * 255) });
const slide = { file: 'a.tif', sha256: 'a'.repeat(64) };

test('Dice of counts; two empty masks agree', () => {
  expect(dice(3, 4, 4)).toBe(0.75);
  expect(dice(0, 0, 0)).toBe(1);
  expect(dice(0, 5, 0)).toBe(0);
});

test('quantiles are nearest-rank values that occurred', () => {
  const q = quantiles(Float64Array.from([0.4, 0.1, 0.3, 0.2, 0.9, 0.5, 0.6, 0.7, 0.8, 1.0]));
  expect(q).toEqual({ p50: 0.5, p95: 1.0, max: 1.0 });
  expect(quantiles(Float64Array.from([0.25]))).toEqual({ p50: 0.25, p95: 0.25, max: 0.25 });
  expect(quantiles(new Float64Array(0))).toEqual({ p50: 0, p95: 0, max: 0 });
});

test('one slide: differences at the inferred cells only, flips across 0.5, mask overlap', () => {
  const reference = { heatmap: Float32Array.from([0.9, 0.2, 0.55, 0, 0.7]), mask: mask([1, 1, 0, 0, 1]) };
  // cell 3 was not inferred (0 in both); cell 2 crosses 0.5; cell 4 stays above
  const candidate = { heatmap: Float32Array.from([0.875, 0.25, 0.45, 0, 0.5]), mask: mask([1, 0, 1, 0, 1]) };
  const s = compareSlide(slide, [0, 1, 2, 4], reference, candidate);
  expect(Array.from(s.absDiff).map((d) => Number(d.toFixed(6)))).toEqual([0.025, 0.05, 0.1, 0.2]);
  expect(s.flips).toBe(2); // 0.55 -> 0.45 and 0.7 -> 0.5 (0.5 is not above 0.5)
  expect({ both: s.both, reference: s.reference, candidate: s.candidate }).toEqual({
    both: 2,
    reference: 3,
    candidate: 3,
  });
  expect(() => compareSlide(slide, [], reference, { ...candidate, mask: mask([1]) })).toThrow(/size/);
});

test('the summary pools patches and mask pixels over slides and decides on the pooled Dice', () => {
  const good = compareSlide(
    slide,
    [0, 1],
    { heatmap: Float32Array.from([0.9, 0.1]), mask: mask(new Array(200).fill(1)) },
    { heatmap: Float32Array.from([0.9, 0.1]), mask: mask(new Array(200).fill(1)) },
  );
  const bad = compareSlide(
    { file: 'b.tif', sha256: 'b'.repeat(64) },
    [0],
    { heatmap: Float32Array.from([0.6]), mask: mask([1, 1, 0, 0]) },
    { heatmap: Float32Array.from([0.4]), mask: mask([1, 0, 0, 0]) },
  );
  const s = summarise([good, bad]);
  expect(s.patches).toBe(3);
  expect(s.decisionFlipShare).toBeCloseTo(1 / 3, 12);
  expect(s.maskDice).toBeCloseTo((2 * 201) / (202 + 201), 12);
  expect(s.minSlideMaskDice).toBeCloseTo(2 / 3, 12);
  expect(s.passed).toBe(true); // pooled 0.9975 >= 0.99 ...
  const table = formatAgreement(s, 'published');
  expect(table).toContain('warning: one slide'); // ... but one slide is below: said
  expect(table).toMatch(/^b\.tif +1 +0\.2000 +0\.2000 +0\.2000 +1 \(100\.00%\) +0\.6667$/m);
  expect(table).toMatch(/^all +3 .* 1 \(33\.33%\) +0\.9975$/m);
  expect(agreementRecord(s, false)).toEqual({
    slides: [
      { file: 'a.tif', sha256: 'a'.repeat(64), patches: 2 },
      { file: 'b.tif', sha256: 'b'.repeat(64), patches: 1 },
    ],
    heatmapAbsDiff: s.heatmapAbsDiff,
    decisionFlipShare: s.decisionFlipShare,
    maskDice: s.maskDice,
    minSlideMaskDice: s.minSlideMaskDice,
    forced: false,
  });
  expect(summarise([bad]).passed).toBe(false);
});

test('calibration shares: equal, capped by what a slide has, the rest passed on', () => {
  expect(allocate(300, [1000, 1000, 1000])).toEqual([100, 100, 100]);
  expect(allocate(300, [10, 1000, 1000])).toEqual([10, 145, 145]);
  expect(allocate(300, [10, 20, 30])).toEqual([10, 20, 30]);
  expect(allocate(7, [0, 5, 5])).toEqual([0, 4, 3]);
  expect(allocate(10, [])).toEqual([]);
});

test('cells are taken evenly over the slide', () => {
  expect(spread([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 5)).toEqual([1, 3, 5, 7, 9]);
  expect(spread([4, 8, 15], 3)).toEqual([4, 8, 15]);
  expect(spread([4, 8, 15], 0)).toEqual([]);
});
