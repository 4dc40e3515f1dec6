// workerd (module worker): the library and golden.js as ES modules, both builds as wasm module
// bindings (workerd refuses to compile bytes); answers any request with the digests as JSON.
import * as lib from "./node_modules/aescore/dist/src/index.js";
import * as golden from "./golden.js";
import simd from "./aescore-simd.wasm";
import scalar from "./aescore-scalar.wasm";
import { compute } from "./compute.mjs";

export default {
  async fetch() {
    try {
      return Response.json(await compute(lib, golden, { simd, scalar }));
    } catch (err) {
      return Response.json({ error: String((err && err.stack) || err) }, { status: 500 });
    }
  },
};
