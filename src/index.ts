// aescore: the public API.
export * from "./errors.js";
export * from "./engine.js";
export * from "./kernels.js";
export * from "./activations.js";
