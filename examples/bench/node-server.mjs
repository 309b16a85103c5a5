// The benchmark's Node process: `node node-server.mjs <fixture.json> <port>`.
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { createEdge, Verifier } from "@edgeauth/edge";
import * as jose from "jose";
import { prepare, run } from "./ops.mjs";

const [fixture, port] = process.argv.slice(2);
const fx = JSON.parse(await readFile(fixture, "utf8"));
const module = await WebAssembly.compile(await readFile(new URL(import.meta.resolve("@edgeauth/edge/verifier.wasm"))));
const ops = await prepare({ fx, module, createEdge, Verifier, jose });

createServer(async (req, res) => {
  const u = new URL(req.url, "http://bench");
  try {
    if (u.pathname === "/ops") return res.end(JSON.stringify(Object.keys(ops)));
    await run(ops, u.searchParams.get("op"), Number(u.searchParams.get("n")));
    res.end("ok");
  } catch (err) {
    res.writeHead(500).end(String(err?.stack ?? err));
  }
}).listen(Number(port), "127.0.0.1");
