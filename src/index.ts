// aescore: the public API, the same in every runtime (Node, browsers, workers, Deno, Bun, edge).
// Node's files and MNIST are in "aescore/node"; fitting a CSAE on threads (worker threads or Web
// Workers) in "aescore/fit".

// Errors: everything aescore throws on purpose extends AescoreError.
export { AescoreError, ShapeError, InputError, RowError, FormatError } from "./errors.js";
export { DivergenceError } from "./train/driver.js";

// The engine: one WebAssembly instance with its arena of f32 matrices.
export {
  createEngine, createEngineSync, hasSimd, alloc, fromArray, view, rowsOf, mark, release,
  type Engine, type EngineOptions, type Mat, type Backend,
} from "./engine/engine.js";
// The shape-checked kernel calls (GEMM, the activations' fused pass, elementwise, reductions).
export * as kernels from "./engine/kernels.js";
export { gemm } from "./engine/kernels.js";
export { activation, ACTIVATIONS, type Activation } from "./engine/activations.js";

export { rng, rngFrom, classSeed, type Rng } from "./random.js";
export type { Tensor } from "./tensor.js";

// Formats, bytes in and out.
export { encodeSafetensors, decodeSafetensors, type Safetensors } from "./formats/safetensors.js";
export { encodeNpy, decodeNpy } from "./formats/npy.js";
export { encodeIdx, decodeIdx, encodeCsv, decodeCsv, shortestF32, type CsvOptions } from "./formats/idx-csv.js";

// Models: the autoencoder and its energy, the classifiers, their files and their ONNX export.
export {
  createAutoencoder, packForScoring, encodeAutoencoder, decodeAutoencoder, AE_ACTIVATIONS, CHUNK,
  type Autoencoder, type AutoencoderSpec, type AeActivation, type Output,
} from "./model/autoencoder.js";
export { energy, field, laplacian, absorbing, hessian, hidden, reconstruct, dynamics, HESSIAN_MAX_D } from "./model/energy.js";
export {
  predict, predictProba, classEnergies, scores, reconstructionErrors, encodeCsae, decodeCsae, initialConstants,
  classesOf, classIndices, rowsWithLabel, type Csae, type Rule,
} from "./model/csae.js";
export { encodeFactored, decodeFactored, factoredAsCsae, type FactoredCsae } from "./model/factored.js";
export { decodeModel, encodeModel, withThreshold, autoencodersOf, THRESHOLD_KEY, type Model, type Classifier } from "./model/files.js";
export { exportOnnx, exportModel, ONNX_IR_VERSION, ONNX_OPSET } from "./model/onnx.js";
export {
  noveltyScores, noveltyMethods, noveltyMetrics, rocCurve, calibrateThreshold, thresholdOf, calibrationRows, noveltyFlags, NOVELTY_METHODS,
  type NoveltyMethod, type NoveltyMetrics, type NoveltyThreshold,
} from "./model/novelty.js";

// Training in this thread (fitting on worker threads is in "aescore/fit").
export { trainAutoencoder, startState, TRAIN_DEFAULTS, type TrainOptions, type TrainState } from "./train/autoencoder.js";
export { finetune, localGroups, slotParams, FINETUNE_DEFAULTS, type FinetuneOptions, type ClassGroups, type Params } from "./train/finetune.js";
export { permutation, type EpochReport } from "./train/driver.js";
