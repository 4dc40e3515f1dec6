// The demo's static server (npm run demo [-- --port N]): node:http on 127.0.0.1, GET and HEAD only,
// serving three folders of the repository under their own paths, so that the page's relative
// imports (../../dist/src/index.js) are the repository's layout: examples/browser/ (the page and its
// models), dist/src/ and dist/wasm/ (the package's built files). Anything else is refused, including
// paths that climb out (..), and files that a symbolic link would take outside those folders.

import { createServer } from "node:http";
import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { dirname, extname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(HERE, "..", "..");
export const ROOTS = ["examples/browser", "dist/src", "dist/wasm"];
export const PAGE = "/examples/browser/";
export const DEFAULT_PORT = 8000;

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".wasm": "application/wasm",
  ".png": "image/png",
  ".md": "text/plain; charset=utf-8",
  ".ts": "text/plain; charset=utf-8",
};

const inside = (dir, path) => {
  const r = relative(dir, path);
  return r !== ".." && !r.startsWith(`..${sep}`) && !isAbsolute(r);
};

/** The file a URL path names, a redirect (a folder without its slash), or the HTTP status that refuses it. */
export function lookup(urlPath) {
  let path;
  try {
    path = decodeURIComponent(urlPath);
  } catch {
    return { status: 400 };
  }
  if (path.includes("\0") || path.includes("\\")) return { status: 400 };
  let file = resolve(REPO, "." + path);
  const root = ROOTS.map((r) => join(REPO, r)).find((r) => inside(r, file));
  if (!root) return { status: 403 };
  if (!existsSync(file)) return { status: 404 };
  if (statSync(file).isDirectory()) {
    if (!path.endsWith("/")) return { redirect: `${path}/` }; // so that the page's relative URLs resolve
    file = join(file, "index.html");
  }
  if (!existsSync(file) || !statSync(file).isFile()) return { status: 404 };
  if (!inside(realpathSync(root), realpathSync(file))) return { status: 403 };
  return { file };
}

function handle(req, res) {
  const { pathname } = new URL(req.url ?? "/", "http://127.0.0.1");
  const plain = (status, text, headers = {}) => {
    res.writeHead(status, { "content-type": "text/plain; charset=utf-8", ...headers });
    res.end(req.method === "HEAD" ? undefined : `${text}\n`);
  };
  if (req.method !== "GET" && req.method !== "HEAD") return plain(405, "only GET and HEAD", { allow: "GET, HEAD" });
  if (pathname === "/") return plain(302, `the demo is at ${PAGE}`, { location: PAGE });
  const found = lookup(pathname);
  if (found.redirect) return plain(301, `moved to ${found.redirect}`, { location: encodeURI(found.redirect) });
  if (found.status === 403) return plain(403, `refused: only ${ROOTS.map((r) => `/${r}/`).join(", ")} are served`);
  if (found.status) return plain(found.status, found.status === 404 ? "not found" : "bad path");
  const body = readFileSync(found.file);
  res.writeHead(200, {
    "content-type": TYPES[extname(found.file)] ?? "application/octet-stream",
    "content-length": body.length,
    "cache-control": "no-cache",
    "x-content-type-options": "nosniff",
  });
  res.end(req.method === "HEAD" ? undefined : body);
}

/** Starts the server on 127.0.0.1:port (0: any free port); resolves to { server, url } of the page. */
export function startDemo({ port = DEFAULT_PORT } = {}) {
  if (!existsSync(join(REPO, "dist", "src", "index.js"))) {
    return Promise.reject(new Error("dist/src/index.js is missing: run `npm run build` first (npm run demo does)"));
  }
  const server = createServer(handle);
  return new Promise((done, fail) => {
    server.once("error", (err) => fail(err.code === "EADDRINUSE" ? new Error(`port ${port} on 127.0.0.1 is in use: choose another with --port N`) : err));
    server.listen(port, "127.0.0.1", () => done({ server, url: `http://127.0.0.1:${server.address().port}${PAGE}` }));
  });
}

function parsePort(argv) {
  let port = DEFAULT_PORT;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--help" || a === "-h") {
      console.log(`npm run demo [-- --port N]   serves the browser demo on http://127.0.0.1:N${PAGE} (default ${DEFAULT_PORT}; 0: a free port)`);
      process.exit(0);
    }
    const value = a === "--port" ? argv[++i] : a.startsWith("--port=") ? a.slice(7) : undefined;
    if (value === undefined) throw new Error(a === "--port" ? "--port needs a value" : `unknown option ${a} (only --port N)`);
    if (!/^\d+$/.test(value) || Number(value) > 65535) throw new Error(`--port must be an integer in 0..65535, not ${JSON.stringify(value)}`);
    port = Number(value);
  }
  return port;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let port;
  try {
    port = parsePort(process.argv.slice(2));
  } catch (err) {
    console.error(`demo: ${err.message}`);
    process.exit(2);
  }
  startDemo({ port }).then(
    ({ url }) => console.log(`aescore demo: open ${url} (serving ${ROOTS.map((r) => `${r}/`).join(", ")} on 127.0.0.1 only; Ctrl-C stops)`),
    (err) => {
      console.error(`demo: ${err.message}`);
      process.exit(2);
    },
  );
}
