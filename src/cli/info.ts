/** `h2g info <slide>`: what a slide is made of, for people (text) and programs (--json). */
import { Command } from 'commander';
import { OpenSlide } from '../slide/openslide';

export interface SlideInfo {
  path: string;
  vendor: string | null;
  width: number;
  height: number;
  levels: { width: number; height: number; downsample: number }[];
  mpp: { x: number; y: number; source: string } | null;
  objectivePower: number | null;
  bounds: { x: number; y: number; width: number; height: number } | null;
  associatedImages: string[];
}

export async function readSlideInfo(path: string): Promise<SlideInfo> {
  const slide = await OpenSlide.open(path);
  try {
    return {
      path,
      vendor: slide.vendor,
      width: slide.width,
      height: slide.height,
      levels: slide.levels.map((l) => ({ ...l })),
      mpp: slide.pixelSize,
      objectivePower: slide.objectivePower,
      bounds: slide.bounds,
      associatedImages: Object.keys(slide.associatedImages),
    };
  } finally {
    await slide.close();
  }
}

export function formatSlideInfo(info: SlideInfo): string {
  const lines = [
    `slide:      ${info.path}`,
    `vendor:     ${info.vendor ?? 'unknown'}`,
    `size:       ${info.width} x ${info.height} px`,
    `pixel size: ${info.mpp ? `${info.mpp.x.toPrecision(4)} x ${info.mpp.y.toPrecision(4)} um/px (from ${info.mpp.source})` : 'unknown (give --mpp to commands that need it)'}`,
    `objective:  ${info.objectivePower !== null ? `${info.objectivePower}x` : 'unknown'}`,
    `bounds:     ${info.bounds ? `x=${info.bounds.x} y=${info.bounds.y} ${info.bounds.width} x ${info.bounds.height}` : 'none'}`,
    `associated: ${info.associatedImages.length ? info.associatedImages.join(', ') : 'none'}`,
    `levels:     ${info.levels.length}`,
    ...info.levels.map((l, i) => `  ${i}: ${l.width} x ${l.height} (downsample ${Number(l.downsample.toFixed(4))})`),
  ];
  return lines.join('\n') + '\n';
}

export function infoCommand(): Command {
  return new Command('info')
    .description("print a slide's vendor, size, levels, pixel size, objective power and bounds")
    .argument('<slide>', 'path to a whole-slide image OpenSlide can read')
    .option('--json', 'print one JSON object')
    .action(async (slide: string, opts: { json?: boolean }) => {
      const info = await readSlideInfo(slide);
      process.stdout.write(opts.json ? `${JSON.stringify(info)}\n` : formatSlideInfo(info));
    });
}
