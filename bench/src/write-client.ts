import { composeIdNumber, siblingUrl, type CommandStatsSnapshot } from "@hub/kit";
import { outboxLag, untilOutboxesEmpty } from "./outboxes.js";
import type { BenchStack } from "./stack.js";

/**
 * The hub `npm run bench:writes` drives, set by its main once the stack is up: every process by
 * name (gateway, subgraphs, database), the gateway's URL and the tokens its clients send.
 */
export const hub = {
  stack: undefined as unknown as BenchStack,
  processes: {} as Record<string, number>,
  gateway: "",
  counterToken: "",
  bankToken: "",
};
let serial = 0;

export interface Answer {
  ms: number;
  data?: Record<string, Record<string, unknown>>;
  errors?: { message: string; extensions?: { code?: string } }[];
  extensions?: Record<string, unknown>;
}

export async function call(
  operation: string,
  variables: unknown,
  token = hub.counterToken,
): Promise<Answer> {
  const started = performance.now();
  const response = await fetch(hub.gateway, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({
      query: hub.stack.document(operation),
      operationName: operation,
      variables,
    }),
  });
  const body = (await response.json()) as Omit<Answer, "ms">;
  return { ms: performance.now() - started, ...body };
}

export async function must(operation: string, variables: unknown, token?: string): Promise<Answer> {
  const answer = await call(operation, variables, token);
  if (answer.errors) throw new Error(`${operation}: ${JSON.stringify(answer.errors)}`);
  return answer;
}

/** A new identity number each call: the next sequence number, then the next birth date. */
export function uniqueIdNumber(): string {
  const n = serial++;
  const born = new Date(Date.UTC(1960, 0, 1) + Math.floor(n / 998) * 86_400_000);
  return composeIdNumber(
    "110101",
    born.toISOString().slice(0, 10).replace(/-/g, ""),
    1 + (n % 998),
  );
}

export async function newCard(): Promise<{ personId: string; cardId: string }> {
  const registered = await must("RegisterPerson", {
    input: { idNumber: uniqueIdNumber(), name: "压测人" },
  });
  const personId = String((registered.data!["registerPerson"]!["person"] as { id: string }).id);
  const issued = await must("IssueCard", {
    input: { personId, province: "44", issuingBank: "中国工商银行" },
  });
  const cardId = String((issued.data!["issueCard"]!["card"] as { id: string }).id);
  return { personId, cardId };
}

/** A new idempotency key each call (the same counter as the identity numbers'). */
export const key = () => `w-${serial++}`;

// What the subgraphs report.

export async function stats(): Promise<Record<string, CommandStatsSnapshot>> {
  const entries = await Promise.all(
    Object.entries(hub.stack.subgraphUrls).map(async ([name, url]) => [
      name,
      (await (await fetch(siblingUrl(url, "/dbstats"))).json()) as CommandStatsSnapshot,
    ]),
  );
  return Object.fromEntries(entries) as Record<string, CommandStatsSnapshot>;
}

export const outboxes = () => outboxLag(hub.stack.subgraphUrls);

/** Milliseconds until every outbox is empty (polled every 50 ms), or null after `timeoutMs`. */
export const drained = (timeoutMs = 60_000) =>
  untilOutboxesEmpty(hub.stack.subgraphUrls, timeoutMs, 50);
