// Shared by every runtime entry: the golden digests of the installed package, for each build the
// runtime can run. Imports nothing: the library and test/golden.js are passed in.
//
// `modules` ({ simd, scalar }: precompiled WebAssembly.Module objects) is for runtimes that refuse to
// compile bytes (workerd): goldenDigests creates its engine with lib.createEngine({ backend }), so it
// gets a copy of the library whose createEngine also passes the build's module.

export async function compute(lib, golden, modules) {
  const started = Date.now();
  const simd = modules ? true : lib.hasSimd();
  const backends = simd ? ["simd", "scalar"] : ["scalar"];
  const digests = {};
  for (const backend of backends) {
    const used = modules
      ? { ...lib, createEngine: (options = {}) => lib.createEngine({ ...options, backend, module: modules[backend] }) }
      : lib;
    digests[backend] = await golden.goldenDigests(used, { backend });
  }
  const result = { backends, digests, ms: Date.now() - started };
  if (modules) {
    // What the precompiled module is for: compiling the embedded bytes must be refused here.
    result.fromBytes = await lib.createEngine().then(() => "compiled", (err) => `refused: ${err && err.message}`);
  }
  return result;
}
