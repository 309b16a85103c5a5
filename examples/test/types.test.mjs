// The package's TypeScript declarations: `tsc` checks a typed consumer against them
// (as installed from the tarball), and every value they declare exists at run time
// with nothing exported that they leave out.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { readFile } from "node:fs/promises";
import { examples } from "./edges.mjs";

const run = promisify(execFile);
const tsc = `${examples}node_modules/.bin/tsc`;

for (const project of ["test/types/tsconfig.json", "test/types/tsconfig.next.json"]) {
  test(`tsc accepts the typed consumer (${project})`, async () => {
    await run(tsc, ["-p", project], { cwd: examples }).catch((err) => assert.fail(`${err.stdout}${err.stderr}`));
  });
}

for (const [entry, dts] of [["@edgeauth/edge", "index.d.ts"], ["@edgeauth/edge/browser", "browser.d.ts"]]) {
  test(`${entry}: declared values and run-time exports are the same`, async () => {
    const text = await readFile(`${examples}node_modules/@edgeauth/edge/types/${dts}`, "utf8");
    const declared = [...text.matchAll(/^export (?:declare )?(?:function|const|class) (\w+)/gm)].map((m) => m[1]).sort();
    const actual = Object.keys(await import(entry)).sort();
    assert.deepEqual(actual, declared);
  });
}
