import "reflect-metadata";
import { mintDevToken } from "@hub/kit";
import { startInProcessHub } from "./lib/in-process-hub.js";
const secret = "x".repeat(40);
const hub = await startInProcessHub({ secret, logLevel: "error" });
const token = await mintDevToken(secret, { sub: "op1", channel: "COUNTER", scopes: ["pii:read"] });
for (const url of [hub.subgraphs.get("persons")!.url, hub.gateway.url]) {
const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify({ query: `{ personByIdNumber(idNumber: "123") { id } }` }) });
console.log(res.status, await res.text());
}
await hub.stop();
