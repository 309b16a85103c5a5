// The benchmark's Deno process: `deno run -A deno-server.ts <fixture.json> <port>`.
import { createEdge, Verifier } from "@edgeauth/edge";
import * as jose from "jose";
import { prepare, run } from "./ops.mjs";

const [fixture, port] = Deno.args;
const fx = JSON.parse(await Deno.readTextFile(fixture));
const module = await WebAssembly.compile(await Deno.readFile(new URL(import.meta.resolve("@edgeauth/edge/verifier.wasm"))));
const ops = await prepare({ fx, module, createEdge, Verifier, jose });

Deno.serve({ hostname: "127.0.0.1", port: Number(port), onListen() {} }, async (req) => {
  const u = new URL(req.url);
  try {
    if (u.pathname === "/ops") return new Response(JSON.stringify(Object.keys(ops)));
    await run(ops, u.searchParams.get("op")!, Number(u.searchParams.get("n")));
    return new Response("ok");
  } catch (err) {
    return new Response(String((err as Error)?.stack ?? err), { status: 500 });
  }
});
