// aescore: the public API.
export * from "./errors.js";
export * from "./engine.js";
export * from "./kernels.js";
export * from "./activations.js";
export * from "./random.js";
export * from "./safetensors.js";
export * from "./npy.js";
export * from "./data.js";
export * from "./autoencoder.js";
export * from "./energy.js";
export * from "./csae.js";
export * from "./factored.js";
export * from "./training.js";
export * from "./finetune.js";
