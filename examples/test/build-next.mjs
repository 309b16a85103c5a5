// Builds the Next.js example once per file convention (proxy.ts, middleware.ts) so
// every test file of `make test-edge` starts the same builds.
import { buildNext } from "./edges.mjs";

for (const convention of ["proxy", "middleware"]) {
  const dir = await buildNext(convention);
  console.log(`next build (${convention}.ts): ${dir}`);
}
