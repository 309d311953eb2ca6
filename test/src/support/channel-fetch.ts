import type { Channel, Scope } from "@hub/kit";
import { token } from "./hub.js";

/** Which channel runs each contract operation in the client tests (CONTRACT.md's channel table). */
export const CHANNEL_OF: Record<string, Channel> = {
  IssueElectronicCard: "APP",
  SetElectronicCardPassword: "APP",
  VerifyElectronicCardPassword: "APP",
  ActivateFinancialFunction: "BANK_COUNTER",
  CancelBankAccount: "BANK_COUNTER",
};

export interface SeenRequest {
  operationName: string | undefined;
  /** The request carried the document (not only its hash). */
  withQuery: boolean;
  hash: string | undefined;
  status: number;
}

/**
 * A `fetch` for client libraries: signs each request with a token of the channel that runs its
 * operation (COUNTER unless named above), as the front-ends of each channel would, and records
 * what was sent.
 */
export function channelFetch(
  seen: SeenRequest[] = [],
  /** The tokens' scopes (default: all; a channel's front-end has no `schema:read`). */
  scopes?: readonly Scope[],
): typeof fetch {
  return async (input, init = {}) => {
    const url = new URL(typeof input === "string" || input instanceof URL ? input : input.url);
    const body =
      typeof init.body === "string"
        ? (JSON.parse(init.body) as Record<string, unknown>)
        : Object.fromEntries(
            [...url.searchParams.entries()].map(([k, v]) => [
              k,
              k === "extensions" || k === "variables" ? JSON.parse(v) : v,
            ]),
          );
    const operationName = body["operationName"] as string | undefined;
    const headers = new Headers(init.headers);
    headers.set(
      "authorization",
      `Bearer ${await token({ channel: CHANNEL_OF[operationName ?? ""] ?? "COUNTER", scopes })}`,
    );
    const response = await fetch(input, { ...init, headers });
    const persisted = (body["extensions"] as { persistedQuery?: { sha256Hash?: string } })
      ?.persistedQuery;
    seen.push({
      operationName,
      withQuery: typeof body["query"] === "string",
      hash: persisted?.sha256Hash,
      status: response.status,
    });
    return response;
  };
}
