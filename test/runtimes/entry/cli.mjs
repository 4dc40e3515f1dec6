// Deno and Bun: compute the digests of the installed package and print them as one JSON line.
import * as lib from "./node_modules/aescore/dist/src/index.js";
import * as golden from "./golden.js";
import { compute } from "./compute.mjs";

const result = await compute(lib, golden);
console.log(JSON.stringify(result));
