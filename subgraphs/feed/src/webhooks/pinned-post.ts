import type { LookupAddress, LookupOptions } from "node:dns";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { LookupFunction } from "node:net";
import type { CheckedTarget, ResolvedAddress } from "./target-policy.js";

/** What one POST came to. */
export type PostOutcome =
  | { kind: "response"; status: number; retryAfter: string | null; elapsedMs: number }
  | { kind: "timeout"; elapsedMs: number }
  | { kind: "error"; message: string; elapsedMs: number };

export interface PostRequest {
  headers: Record<string, string>;
  body: string;
  /** Until the response's status line and headers have come. */
  timeoutMs: number;
  /** Cuts the request off (the deliverer stops). */
  signal?: AbortSignal;
}

/**
 * A lookup that answers only the addresses the target policy checked, whatever DNS says by the
 * time the socket connects. Node calls it with `all: true` when it tries addresses in turn
 * (autoSelectFamily, the default since Node 20), and for one address otherwise.
 */
export function pinnedLookup(addresses: readonly ResolvedAddress[]): LookupFunction {
  return (hostname: string, options: LookupOptions, callback) => {
    const wanted = options.family === 4 || options.family === 6 ? options.family : 0;
    const usable = addresses.filter((a) => wanted === 0 || a.family === wanted);
    const first = usable[0];
    if (!first) {
      const error: NodeJS.ErrnoException = new Error(`no checked address for ${hostname}`);
      error.code = "ENOTFOUND";
      callback(error, "", 0);
      return;
    }
    if (options.all)
      callback(
        null,
        usable.map((a): LookupAddress => ({ ...a })),
      );
    else callback(null, first.address, first.family);
  };
}

/**
 * POSTs one delivery to a checked target, connecting only to its checked addresses. No redirect
 * is followed (node:http follows none): a 3xx is an answer like any other, and a redirect could
 * point anywhere. A fresh connection each time (no agent), so a pooled socket never carries a
 * delivery to an address this target's check did not cover. The response body is not read.
 */
export function postToTarget(target: CheckedTarget, request: PostRequest): Promise<PostOutcome> {
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  const send = target.url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise<PostOutcome>((resolve) => {
    let settled = false;
    const settle = (outcome: PostOutcome) => {
      if (settled) return;
      settled = true;
      resolve(outcome);
    };
    const outgoing = send(target.url, {
      method: "POST",
      agent: false,
      lookup: pinnedLookup(target.addresses),
      headers: {
        ...request.headers,
        "content-type": "application/json",
        "content-length": String(Buffer.byteLength(request.body)),
        "user-agent": "card-status-hub-webhooks/1",
      },
    });
    // Until the answer's headers; a receiver that then trickles its body is cut off at the same
    // deadline, so no delivery holds a socket longer than its timeout.
    const deadline = setTimeout(() => {
      settle({ kind: "timeout", elapsedMs: elapsed() });
      outgoing.destroy();
    }, request.timeoutMs);
    outgoing.once("response", (response: IncomingMessage) => {
      const retryAfter = response.headers["retry-after"];
      settle({
        kind: "response",
        status: response.statusCode ?? 0,
        retryAfter: typeof retryAfter === "string" ? retryAfter : null,
        elapsedMs: elapsed(),
      });
      response.once("end", () => clearTimeout(deadline));
      response.once("error", () => undefined);
      response.resume();
    });
    outgoing.once("error", (error) => {
      clearTimeout(deadline);
      settle({ kind: "error", message: error.message, elapsedMs: elapsed() });
    });
    outgoing.once("close", () => clearTimeout(deadline));
    const abort = () => {
      settle({ kind: "error", message: "cut off: the deliverer stopped", elapsedMs: elapsed() });
      outgoing.destroy();
    };
    if (request.signal?.aborted) abort();
    else request.signal?.addEventListener("abort", abort, { once: true });
    outgoing.once("close", () => request.signal?.removeEventListener("abort", abort));
    outgoing.end(request.body);
  });
}
