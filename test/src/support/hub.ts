import { readFile } from "node:fs/promises";
import { afterAll, beforeAll } from "vitest";
import { mintDevToken, SCOPES, type Channel, type Scope } from "@hub/kit";
import { SCHEMA_DIR } from "@hub/schema";
import { splitOperations } from "@hub/gateway/contract-operations";
import type { CommandStartedEvent } from "mongodb";
import { join } from "node:path";
import { startInProcessHub, type InProcessHub, type InProcessHubOptions } from "@hub/harness";

export const TEST_SECRET = "test-secret-of-at-least-thirty-two-characters";

export interface TestHub extends InProcessHub {
  /** Mongo commands seen since the last reset, as `database.collection` → count. */
  commands: CommandStartedEvent[];
}

/** A whole hub for one test file: its own databases (TEST_MONGODB_URI) or its own embedded server. */
export async function startTestHub(options: Partial<InProcessHubOptions> = {}): Promise<TestHub> {
  const commands: CommandStartedEvent[] = [];
  const hub = await startInProcessHub({
    secret: TEST_SECRET,
    mongoUri: process.env["TEST_MONGODB_URI"],
    dbPrefix: `t${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`,
    onCommand: (event) => commands.push(event),
    ...options,
  });
  return Object.assign(hub, { commands });
}

/** The options `useTestHub` starts the hub with, or a function computing them when it starts. */
export type TestHubOptions =
  | Partial<InProcessHubOptions>
  | (() => Partial<InProcessHubOptions> | Promise<Partial<InProcessHubOptions>>);

/**
 * A whole hub shared by the tests of one file (or one `describe`): started in `beforeAll`, stopped
 * in `afterAll`. Returns a getter, since the hub exists only once `beforeAll` has run. Options that
 * depend on something made at run time (a directory of manifests, a port) are given as a function,
 * called in that `beforeAll`. Hooks registered after this call run after the hub has started, and
 * their `afterAll` before it stops (vitest runs `afterAll` hooks in reverse order).
 */
export function useTestHub(options: TestHubOptions = {}): () => TestHub {
  let hub: TestHub | null = null;
  beforeAll(async () => {
    hub = await startTestHub(typeof options === "function" ? await options() : options);
  });
  afterAll(async () => {
    await hub?.stop();
  });
  return () => {
    if (!hub)
      throw new Error("useTestHub: the hub starts in beforeAll; call hub() in a hook or a test");
    return hub;
  };
}

export function token(
  claims: { channel?: Channel; scopes?: readonly Scope[]; sub?: string; expiresIn?: string } = {},
): Promise<string> {
  return mintDevToken(TEST_SECRET, {
    sub: claims.sub ?? "test-operator",
    channel: claims.channel ?? "COUNTER",
    scopes: claims.scopes ?? SCOPES,
    expiresIn: claims.expiresIn,
  });
}

export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
  extensions?: Record<string, unknown>;
}

export async function graphql<T = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  authorization?: string | null,
): Promise<GraphQLResponse<T>> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (authorization)
    headers["authorization"] =
      authorization.startsWith("Bearer ") || authorization.includes(" ")
        ? authorization
        : `Bearer ${authorization}`;
  const response = await fetch(url, {
    method: "POST",
    headers,
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as Omit<GraphQLResponse<T>, "status">;
  return { status: response.status, ...body };
}

/** The contract's operations (../shared/contract/operations.graphql, checked in as schema/operations.graphql). */
export async function contractOperation(name: string): Promise<string> {
  const operations = splitOperations(
    await readFile(join(SCHEMA_DIR, "operations.graphql"), "utf8"),
  );
  const operation = operations.find((op) => op.name === name);
  if (!operation) throw new Error(`no contract operation ${name}`);
  return operation.document;
}

/** Counts commands per `database.collection`. */
export function countByCollection(events: readonly CommandStartedEvent[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const event of events) {
    const collection = event.command[event.commandName];
    const key = `${event.databaseName}.${typeof collection === "string" ? collection : event.commandName}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** A request body POSTed as it is (any shape): the HTTP status, the data and the first error's code. */
export async function postRequest(
  url: string,
  body: unknown,
  bearer: string,
): Promise<{ status: number; data: unknown; code: unknown }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${bearer}` },
    body: JSON.stringify(body),
  });
  const answer = (await response.json()) as Omit<GraphQLResponse<unknown>, "status">;
  return {
    status: response.status,
    data: answer.data,
    code: answer.errors?.[0]?.extensions?.["code"],
  };
}
