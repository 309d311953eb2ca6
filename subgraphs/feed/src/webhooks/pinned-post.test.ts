import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pinnedLookup, postToTarget } from "./pinned-post.js";
import { TargetPolicy, type ResolvedAddress } from "./target-policy.js";

let server: Server;
let port = 0;
const seen: { host: string | undefined; body: string; headers: IncomingMessage["headers"] }[] = [];
let respond: (status: (code: number, headers?: Record<string, string>) => void) => void = (s) =>
  s(204);

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      seen.push({ host: request.headers.host, body, headers: request.headers });
      respond((code, headers = {}) => response.writeHead(code, headers).end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe("posting to a checked target (webhooks/pinned-post.ts)", () => {
  it("connects to the address the policy checked, whatever DNS answers at connect time", async () => {
    // Real DNS knows no `receiver.test`: the request can only reach the server through the
    // checked address; and a resolver asked again would now answer a private address.
    let calls = 0;
    const resolve = async (): Promise<ResolvedAddress[]> =>
      calls++ === 0 ? [{ address: "127.0.0.1", family: 4 }] : [{ address: "10.0.0.1", family: 4 }];
    const policy = new TargetPolicy({ production: false, resolve });
    const target = await policy.check(`http://receiver.test:${port}/hook?x=1`);
    seen.length = 0;
    respond = (s) => s(202);
    const outcome = await postToTarget(target, {
      headers: { "webhook-id": "ev_1" },
      body: '{"a":1}',
      timeoutMs: 5_000,
    });
    expect(outcome).toMatchObject({ kind: "response", status: 202, retryAfter: null });
    expect(calls).toBe(1);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ host: `receiver.test:${port}`, body: '{"a":1}' });
    expect(seen[0]!.headers["webhook-id"]).toBe("ev_1");
    expect(seen[0]!.headers["content-type"]).toBe("application/json");
  });

  it("reports Retry-After, does not follow redirects, and times out", async () => {
    const target = await new TargetPolicy({ production: false }).check(
      `http://127.0.0.1:${port}/hook`,
    );
    const request = { headers: {}, body: "{}", timeoutMs: 5_000 };
    respond = (s) => s(503, { "retry-after": "7" });
    expect(await postToTarget(target, request)).toMatchObject({ status: 503, retryAfter: "7" });
    respond = (s) => s(302, { location: "http://169.254.169.254/" });
    seen.length = 0;
    expect(await postToTarget(target, request)).toMatchObject({ status: 302 });
    expect(seen).toHaveLength(1);
    respond = () => undefined; // never answers
    expect(await postToTarget(target, { ...request, timeoutMs: 150 })).toMatchObject({
      kind: "timeout",
    });
    const stopped = new AbortController();
    const cut = postToTarget(target, { ...request, signal: stopped.signal });
    setTimeout(() => stopped.abort(), 50);
    expect(await cut).toMatchObject({ kind: "error", message: expect.stringMatching(/stopped/) });
  });

  it("a refused connection is an error outcome", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const free = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const target = await new TargetPolicy({ production: false }).check(`http://127.0.0.1:${free}/`);
    expect(await postToTarget(target, { headers: {}, body: "{}", timeoutMs: 2_000 })).toMatchObject(
      { kind: "error" },
    );
  });

  it("the lookup answers only checked addresses, for one family or all", () => {
    const lookup = pinnedLookup([
      { address: "93.184.216.34", family: 4 },
      { address: "2606:2800:220:1::1", family: 6 },
    ]);
    const answers: unknown[] = [];
    lookup("x", { all: true }, (_e, address) => answers.push(address));
    lookup("x", { family: 6 }, (_e, address, family) => answers.push([address, family]));
    lookup("x", {}, (_e, address, family) => answers.push([address, family]));
    expect(answers).toEqual([
      [
        { address: "93.184.216.34", family: 4 },
        { address: "2606:2800:220:1::1", family: 6 },
      ],
      ["2606:2800:220:1::1", 6],
      ["93.184.216.34", 4],
    ]);
    const v4only = pinnedLookup([{ address: "93.184.216.34", family: 4 }]);
    v4only("x", { family: 6 }, (error) => expect(error?.code).toBe("ENOTFOUND"));
  });
});
