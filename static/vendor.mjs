// Copies the front-end packages installed from the npm registry into
// static/vendor/, where the Go binary embeds them. static/vendor/ is
// git-ignored: run `npm ci && npm run vendor` (the Taskfile's deps task does).
// axe-core, which only the browser tests inject into pages to check their
// accessibility, goes to e2e/vendor/ (git-ignored) instead: it is never
// embedded or served.
//
// This file also keeps the `vendor*` embed pattern in static.go matching on a
// fresh clone, before npm has run.
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");

const files = [
  { pkg: "htmx.org", from: "dist/htmx.min.js", to: "static/vendor/htmx.min.js" },
  // htmx's Server-Sent Events extension: the signed-in pages hear a
  // sign-out from GET /api/auth/session/stream.
  { pkg: "htmx-ext-sse", from: "dist/sse.min.js", to: "static/vendor/htmx-ext-sse.min.js" },
  { pkg: "axe-core", from: "axe.min.js", to: "e2e/vendor/axe.min.js" },
];

for (const f of files) {
  const dir = join(root, "node_modules", f.pkg);
  const { version } = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  mkdirSync(dirname(join(root, f.to)), { recursive: true });
  copyFileSync(join(dir, f.from), join(root, f.to));
  console.log(`vendor: ${f.pkg}@${version} ${f.from} -> ${f.to}`);
}
