/** Errors about model files: a missing or damaged file, or one that is not an H2G-Net model. */
export type ModelErrorCode =
  | 'MODEL_NOT_FOUND' // no model set where one was looked for
  | 'MODEL_CONTRACT' // the file loads but its inputs/outputs are not what H2G-Net needs
  | 'MODEL_INVALID' // onnxruntime cannot load it (truncated, not ONNX)
  | 'MODEL_DIGEST' // the file differs from its manifest (size or SHA-256)
  | 'MODEL_AGREEMENT' // a quantized model's results are too far from its float32 model's
  | 'MANIFEST_INVALID';

export class ModelError extends Error {
  readonly code: ModelErrorCode;

  constructor(code: ModelErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModelError';
    this.code = code;
  }
}
