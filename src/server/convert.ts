/**
 * Translation between the wire types (generated from proto/) and the pipeline's types. Proto3 has
 * no "unset" for scalars, so 0 means "the default" for every numeric option.
 */
import type {
  Progress,
  SegmentOptions as ProtoOptions,
  SegmentEvent,
  SegmentResult,
} from '../generated/h2gnet/v1/segmentation';
import { offload } from '../pipeline/offload';
import { DEFAULT_LIMITS, type Limits } from '../pipeline/limits';
import { parseRoi } from '../pipeline/options';
import type { PatchScoresEvent, ProgressEvent, SegmentationResult, SegmentOptions } from '../pipeline/types';

/** What to send back besides the polygons. */
export interface ResultExtras {
  livePatches: boolean;
  includeMask: boolean;
  includeHeatmap: boolean;
}

export function toPipelineOptions(
  options: ProtoOptions | undefined,
  limits: Pick<Limits, 'maxRoiVertices'> = DEFAULT_LIMITS,
): Partial<SegmentOptions> {
  const o = options;
  return {
    mpp: o?.mpp ? o.mpp : undefined,
    tissueThreshold: o?.tissueThreshold ? o.tissueThreshold : undefined,
    batchSize: o?.batchSize ? o.batchSize : undefined,
    smoothingUm: o?.smoothingUm ? o.smoothingUm : undefined,
    roi: o?.roiGeojson ? parseRoi(o.roiGeojson, limits.maxRoiVertices) : undefined,
    // validateOptions() refuses names outside REFERENCES with INVALID_ARGUMENT.
    reference: o?.reference ? (o.reference as SegmentOptions['reference']) : undefined,
  };
}

export function resultExtras(options: ProtoOptions | undefined): ResultExtras {
  return {
    livePatches: options?.livePatches ?? false,
    includeMask: options?.includeMask ?? false,
    includeHeatmap: options?.includeHeatmap ?? false,
  };
}

export function progressEvent(p: Partial<Progress> & { stage: string }): SegmentEvent {
  return {
    event: {
      $case: 'progress',
      progress: { done: 0, total: 0, queuePosition: 0, elapsedSeconds: 0, etaSeconds: -1, ...p },
    },
  };
}

export function fromPipelineProgress(e: ProgressEvent): SegmentEvent {
  return progressEvent({
    stage: e.stage,
    done: e.done,
    total: e.total,
    elapsedSeconds: e.elapsedSeconds,
    etaSeconds: e.etaSeconds,
  });
}

export function fromPatchScores(e: PatchScoresEvent): SegmentEvent {
  return { event: { $case: 'patches', patches: { ...e } } };
}

export async function toProtoResult(result: SegmentationResult, extras: ResultExtras): Promise<SegmentResult> {
  const s = result.summary;
  return {
    geojson: result.geojsonText,
    summary: {
      patchesTotal: s.patchesTotal,
      patchesInferred: s.patchesInferred,
      tumourAreaMm2: s.tumourAreaMm2,
      tissueAreaMm2: s.tissueAreaMm2,
      tumourShareOfTissue: s.tumourShareOfTissue,
      stageSeconds: { ...s.stageSeconds },
      totalSeconds: s.totalSeconds,
      polygonCount: s.polygonCount,
    },
    maskPng: extras.includeMask ? await offload.maskPng(result.mask) : Buffer.alloc(0),
    heatmap: extras.includeHeatmap
      ? {
          rows: result.heatmap.rows,
          cols: result.heatmap.cols,
          patchSizeLevel0: result.heatmap.patchSizeLevel0,
          values: Array.from(result.heatmap.values),
        }
      : undefined,
  };
}
