// The module's exports: kernels by family. TypeScript owns all memory (imported, runtime stub):
// no kernel allocates.
export * from "./gemm";
export * from "./elementwise";
export * from "./reductions";
export * from "./activations";

/** First byte free for the host's arena (past the module's static data). */
export function heap_base(): usize {
  return __heap_base;
}
