import { sleep } from "./feed-figures.js";
import type { BenchStack } from "./stack.js";

/** One card mutation through the gateway, with the bench's request headers (its token). */
export function postChange(
  gateway: string,
  stack: BenchStack,
  operation: string,
  input: Record<string, unknown>,
): Promise<Response> {
  return fetch(gateway, {
    method: "POST",
    headers: stack.headers,
    body: JSON.stringify({
      query: stack.document(operation),
      operationName: operation,
      variables: { input },
    }),
  });
}

/**
 * The changes the feed bench makes through the gateway: a card's odd changes report it lost
 * (temporarily), its even ones withdraw the report. Records when each request left and its answer
 * came (by card and sequence), each mutation's time, and failures by code.
 */
export function changeSender(gateway: string, stack: BenchStack) {
  /** When each change's request left and its answer came, by card and sequence. */
  const sentAt = new Map<string, number>();
  const answeredAt = new Map<string, number>();
  const mutationMs: number[] = [];
  let failed = 0;
  const failures = new Map<string, number>();
  const fail = (code: string) => {
    failed += 1;
    failures.set(code, (failures.get(code) ?? 0) + 1);
  };
  const change = async (cardId: string, n: number): Promise<void> => {
    const report = n % 2 === 1;
    const operation = report ? "ReportCardLoss" : "WithdrawLossReport";
    const input = report ? { cardId, temporary: true } : { cardId };
    const key = `${cardId}#${n}`;
    const started = Date.now();
    sentAt.set(key, started);
    try {
      const response = await postChange(gateway, stack, operation, input);
      const body = (await response.json()) as { errors?: { extensions?: { code?: string } }[] };
      answeredAt.set(key, Date.now());
      mutationMs.push(Date.now() - started);
      if (body.errors) fail(body.errors[0]?.extensions?.code ?? "unknown");
    } catch {
      fail("no answer");
    }
  };
  return {
    change,
    sentAt,
    answeredAt,
    mutationMs,
    failures,
    get failed() {
      return failed;
    },
  };
}

/**
 * The load: `rate` changes a second from `loadStarted`, spread over `cards`. Paced globally; each
 * card's next change waits for its previous answer (a withdrawal sent before its loss report
 * commits would be INVALID_TRANSITION), so a slower hub shows as a lower rate, not as failures.
 */
export async function paceChanges(
  cards: { _id: string }[],
  total: number,
  rate: number,
  loadStarted: number,
  change: (cardId: string, n: number) => Promise<void>,
): Promise<void> {
  const sentByCard = new Map<string, number>();
  const previous = new Map<string, Promise<void>>();
  for (let i = 0; i < total; i++) {
    const due = loadStarted + (i * 1000) / rate;
    if (due > Date.now()) await sleep(due - Date.now());
    const cardId = cards[i % cards.length]!._id;
    const n = (sentByCard.get(cardId) ?? 0) + 1;
    sentByCard.set(cardId, n);
    previous.set(
      cardId,
      (previous.get(cardId) ?? Promise.resolve()).then(() => change(cardId, n)),
    );
  }
  await Promise.all(previous.values());
}
