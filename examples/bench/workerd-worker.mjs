// The benchmark's workerd process (run.mjs writes its config): the same ops as in Node
// and Deno, prepared once per isolate.
import { createEdge, Verifier } from "../node_modules/@edgeauth/edge/src/index.mjs";
import * as jose from "../node_modules/jose/dist/webapi/index.js";
import module from "verifier.wasm";
import fx from "fixture.json";
import { prepare, run } from "./ops.mjs";

let ops;

export default {
  async fetch(req) {
    ops ??= await prepare({ fx, module, createEdge, Verifier, jose });
    const u = new URL(req.url);
    try {
      if (u.pathname === "/ops") return new Response(JSON.stringify(Object.keys(ops)));
      await run(ops, u.searchParams.get("op"), Number(u.searchParams.get("n")));
      return new Response("ok");
    } catch (err) {
      return new Response(String(err?.stack ?? err), { status: 500 });
    }
  },
};
