import { createHash } from "node:crypto";
import { createGraphQLError, type GraphQLParams, type Plugin } from "graphql-yoga";
import { LRUCache } from "lru-cache";

/**
 * Where automatic persisted queries are remembered: in this process (bounded), or in a store all
 * gateways share (Redis, see docs/configuration.md).
 */
export interface PersistedQueryStore {
  get(hash: string): Promise<string | undefined> | string | undefined;
  set(hash: string, document: string): Promise<void> | void;
}

/** The newest `max` registrations of this process. */
export function memoryPersistedQueryStore(max = 5_000): PersistedQueryStore {
  const cache = new LRUCache<string, string>({ max });
  return {
    get: (hash) => cache.get(hash),
    set: (hash, document) => void cache.set(hash, document),
  };
}

export interface PersistedQueriesOptions {
  /** Trusted documents by sha256 hash: the contract's operations and the loaded manifests. */
  trusted: ReadonlyMap<string, string>;
  /** Automatic persisted queries registered by clients (hash + query). */
  store: PersistedQueryStore;
  /** True when this request may run trusted documents only (persisted-only mode, channel token). */
  trustedOnly: (request: Request) => Promise<boolean> | boolean;
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** The document id of a request: Apollo's `extensions.persistedQuery` or Hive's `documentId`. */
function documentIdOf(params: Record<string, unknown>, request: Request): string | null {
  const persisted = (params["extensions"] as Record<string, unknown> | undefined)?.[
    "persistedQuery"
  ] as Record<string, unknown> | undefined;
  if (persisted && persisted["version"] === 1 && typeof persisted["sha256Hash"] === "string")
    return persisted["sha256Hash"];
  if (typeof params["documentId"] === "string") return params["documentId"];
  return new URL(request.url).searchParams.get("documentId");
}

/** Only the standard parameters go on (the runtime refuses any other, `documentId` too). */
const standard = (params: GraphQLParams, query: string): GraphQLParams => ({
  query,
  operationName: params.operationName,
  variables: params.variables,
  extensions: params.extensions,
});

const error = (message: string, code: string, status: number) =>
  createGraphQLError(message, { extensions: { code, http: { status } } });

/**
 * Persisted documents as Apollo Client, urql and Hive clients speak them:
 * - a hash alone runs the trusted document or the registered query with that hash; unknown →
 *   `PERSISTED_QUERY_NOT_FOUND` (HTTP 400), on which those clients resend it with its query;
 * - a hash with its query registers the query (automatic persisted queries) and runs it; a hash
 *   that is not the query's is refused (`BAD_REQUEST`);
 * - in persisted-only mode a channel token runs trusted documents only (`FORBIDDEN` otherwise);
 * - a request with neither is left to the GraphQL-over-HTTP rules (`BAD_REQUEST`).
 */
export function usePersistedQueries(options: PersistedQueriesOptions): Plugin {
  const refuse = () =>
    error(
      "This gateway accepts only registered (persisted) documents for this token.",
      "FORBIDDEN",
      403,
    );
  return {
    async onParams({ params, request, setParams }) {
      const fields = params as unknown as Record<string, unknown>;
      const id = documentIdOf(fields, request);
      const query = typeof params.query === "string" ? params.query : undefined;
      if (id === null) {
        if (query !== undefined && (await options.trustedOnly(request))) throw refuse();
        return;
      }
      if (query !== undefined) {
        if (sha256(query) !== id)
          throw error("The persisted query hash is not the query's sha256.", "BAD_REQUEST", 400);
        if (!options.trusted.has(id)) {
          if (await options.trustedOnly(request)) throw refuse();
          await options.store.set(id, query);
        }
        if ("documentId" in fields) setParams(standard(params, query));
        return;
      }
      const document =
        options.trusted.get(id) ??
        ((await options.trustedOnly(request)) ? undefined : await options.store.get(id));
      if (document === undefined)
        throw error("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND", 400);
      setParams(standard(params, document));
    },
  };
}
