import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { DOMAIN_ERROR_CODES, mintDevToken, SCOPES, type Channel } from "@hub/kit";
import { SCHEMA_DIR } from "@hub/schema";
import { splitOperations } from "@hub/gateway/contract-operations";

/**
 * What became of one request, as a client sees it:
 * - ok: answered without an error;
 * - partial: the mutation's (or query's) root field answered but a part failed (a subgraph behind
 *   a nested field was down): the change is known to have applied, yet the client saw an error;
 * - rejected: a domain error (the state of the data, or the input): nothing changed;
 * - failed: no answer, a non-GraphQL answer (HAProxy) or an infrastructure error: the change may
 *   or may not have applied.
 */
export type Outcome = "ok" | "partial" | "rejected" | "failed";

/** Codes that say "refused on its merits": nothing was written (CONTRACT.md "Errors"). */
const DOMAIN_CODES = new Set<string>(DOMAIN_ERROR_CODES);

export interface Answer {
  outcome: Outcome;
  /** The first error's code, or what went wrong on the way (`fetch: …`, `HTTP 503`). */
  code: string | null;
  /** The root field's value (mutation payload or queried entity). */
  root: Record<string, unknown> | null;
  /** The answer listed effects still on their way (contract v2: a receiver was down). */
  pendingEffects: boolean;
  ms: number;
}

type Body = {
  data?: Record<string, unknown> | null;
  errors?: { extensions?: { code?: unknown } }[];
  extensions?: Record<string, unknown>;
};

/** The contract's operations by name (schema/operations.graphql), with their root field. */
export async function contractDocuments(): Promise<Map<string, string>> {
  const source = await readFile(join(SCHEMA_DIR, "operations.graphql"), "utf8");
  return new Map(splitOperations(source).map((op) => [op.name, op.document]));
}

/** Calls the gateway's load balancer as one operator holding a token per channel. */
export class HubClient {
  private constructor(
    private readonly url: string,
    private readonly documents: Map<string, string>,
    private readonly tokens: Map<Channel, string>,
  ) {}

  static async create(url: string, secret: string, sub: string): Promise<HubClient> {
    const tokens = new Map<Channel, string>();
    for (const channel of ["COUNTER", "BANK_COUNTER", "APP"] as const)
      tokens.set(
        channel,
        await mintDevToken(secret, { sub, channel, scopes: SCOPES, expiresIn: "2h" }),
      );
    return new HubClient(url, await contractDocuments(), tokens);
  }

  async call(
    operation: string,
    variables: Record<string, unknown>,
    channel: Channel = "COUNTER",
  ): Promise<Answer> {
    const query = this.documents.get(operation);
    if (!query) throw new Error(`no contract operation ${operation}`);
    let status = 0;
    let body: Body;
    const started = performance.now();
    const ms = () => Math.round(performance.now() - started);
    try {
      const response = await fetch(this.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${this.tokens.get(channel)}`,
        },
        body: JSON.stringify({ query, operationName: operation, variables }),
        // Longer than any answer the hub gives when it works (effects wait 3 s at most).
        signal: AbortSignal.timeout(20_000),
      });
      status = response.status;
      body = (await response.json()) as Body;
    } catch (error) {
      // A status without a GraphQL body is HAProxy's own answer (503: no gateway marked up).
      const reason = status ? `HTTP ${status} (not GraphQL)` : `fetch: ${(error as Error).message}`;
      return { outcome: "failed", code: reason, root: null, pendingEffects: false, ms: ms() };
    }
    const root = firstValue(body.data);
    const pendingEffects = Array.isArray(body.extensions?.["pendingEffects"]);
    if (!body.errors?.length) return { outcome: "ok", code: null, root, pendingEffects, ms: ms() };
    const code = String(body.errors[0]?.extensions?.code ?? `HTTP ${status}`);
    const outcome = root ? "partial" : DOMAIN_CODES.has(code) ? "rejected" : "failed";
    return { outcome, code, root, pendingEffects, ms: ms() };
  }
}

function firstValue(
  data: Record<string, unknown> | null | undefined,
): Record<string, unknown> | null {
  const value = data ? Object.values(data)[0] : null;
  return value && typeof value === "object" ? (value as Record<string, unknown>) : null;
}
