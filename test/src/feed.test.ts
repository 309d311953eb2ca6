import { beforeAll, describe, expect, it } from "vitest";
import { codeOf, personWithCard, runOk } from "./support/cards.js";
import { eventually } from "./support/eventually.js";
import {
  cardEventLog,
  feedOperation,
  loggedEvents as loggedAt,
  onlyEvent,
  subscribeCardEvents,
  type CardEventView,
} from "./support/feed-subscriber.js";
import { token, useTestHub } from "./support/hub.js";

/**
 * The status-change feed (contract v3, issue 25) through the gateway: graphql-sse's client
 * subscribes to `CardEvents` (GraphQL over SSE), changes go through the gateway as any channel's,
 * and `card` comes back resolved from the cards subgraph for each event.
 */

const hub = useTestHub();
let cardEvents: string;

beforeAll(async () => {
  cardEvents = await feedOperation("CardEvents");
});

/** A subscription to the contract's CardEvents through the gateway, collecting what arrives. */
function listen(variables: Record<string, unknown>, bearer: string) {
  return subscribeCardEvents(hub().gateway.url, cardEvents, variables, bearer);
}

const log = (variables: Record<string, unknown>, bearer?: string) =>
  cardEventLog(hub().gateway.url, variables, bearer);

/** The person's events in the log once it holds at least `count` of them. */
const loggedEvents = (personId: string, count: number) =>
  loggedAt(hub().gateway.url, personId, count);

const change = (operation: string, input: Record<string, unknown>, channel?: "BANK_COUNTER") =>
  runOk(hub().gateway.url, operation, input, channel);

describe("the status-change feed through the gateway (GraphQL over SSE)", () => {
  it("a loss reported through the gateway reaches a subscriber with the card resolved from cards", async () => {
    const { personId, cardId } = await personWithCard(hub().gateway.url);
    // Subscribing after the card's issue: the loss report is the next event, whenever the
    // stream is established.
    const [issued] = await loggedEvents(personId, 1);
    expect(issued).toMatchObject({ type: "CARD_ISSUED", statusBefore: null, card: { id: cardId } });
    const subscriber = listen({ personId, after: issued!.cursor }, await token());
    try {
      await change("ReportCardLoss", { cardId, temporary: true });
      const event = await onlyEvent(subscriber);
      expect(event).toMatchObject({
        type: "LOSS_REPORTED",
        channel: "COUNTER",
        statusBefore: "ARCHIVED",
        statusAfter: "TEMPORARY_LOSS",
        card: { id: cardId, status: "TEMPORARY_LOSS", holder: { id: personId } },
      });
      expect(event.eventId).not.toBe(issued!.eventId);
    } finally {
      subscriber.close();
    }
  });

  it("FORBIDDEN without the scope events:read, for the subscription and the query", async () => {
    const bearer = await token({ scopes: ["cards:read", "pii:read"] });
    const subscriber = listen({}, bearer);
    try {
      await eventually(async () => expect(subscriber.errors.length).toBeGreaterThan(0));
      expect(subscriber.errors[0]?.extensions?.["code"]).toBe("FORBIDDEN");
      expect(subscriber.events).toEqual([]);
    } finally {
      subscriber.close();
    }
    expect(codeOf(await log({}, bearer))).toBe("FORBIDDEN");
  });

  it("resumes after the last cursor it received: exactly the events committed meanwhile, in order; the query pages the same log", async () => {
    const { personId, cardId } = await personWithCard(hub().gateway.url);
    const [issued] = await loggedEvents(personId, 1);
    const first = listen({ personId, after: issued!.cursor }, await token());
    try {
      await change("CollectCard", { cardId, collectedAt: new Date().toISOString() });
      await change("EnableSocialSecurityFunction", { cardId });
      await change("ReportCardLoss", { cardId, temporary: true });
      await eventually(async () => expect(first.events).toHaveLength(3));
    } finally {
      first.close();
    }
    expect(first.errors).toEqual([]);
    expect(first.events.map((e) => e.type)).toEqual([
      "CARD_COLLECTED",
      "SOCIAL_SECURITY_FUNCTION_ENABLED",
      "LOSS_REPORTED",
    ]);

    // Five more changes while nobody listens: the card's, its password's and its bank account's.
    await change("WithdrawLossReport", { cardId });
    await change("ReportCardLoss", { cardId, temporary: true });
    await change("WithdrawLossReport", { cardId });
    await change("ResetCardPassword", { cardId, idempotencyKey: `feed-reset-${cardId}` });
    await change(
      "ActivateFinancialFunction",
      { cardId, idempotencyKey: `feed-act-${cardId}` },
      "BANK_COUNTER",
    );
    const missed = (await loggedEvents(personId, 9)).slice(4);

    const resumed = listen({ personId, after: first.events.at(-1)!.cursor }, await token());
    try {
      await eventually(async () => expect(resumed.events.length).toBeGreaterThanOrEqual(5));
      expect(resumed.errors).toEqual([]);
      expect(resumed.events.map((e) => e.type)).toEqual([
        "LOSS_WITHDRAWN",
        "LOSS_REPORTED",
        "LOSS_WITHDRAWN",
        "CARD_PASSWORD_RESET",
        "FINANCIAL_FUNCTION_ACTIVATED",
      ]);
      expect(resumed.events.map((e) => e.eventId)).toEqual(missed.map((e) => e.eventId));
      const seen = new Set(first.events.map((e) => e.eventId));
      expect(resumed.events.filter((e) => seen.has(e.eventId))).toEqual([]);
      expect(resumed.events.at(-1)).toMatchObject({
        statusBefore: "NOT_ACTIVATED",
        statusAfter: "ACTIVE",
        card: { id: cardId, status: "NORMAL" },
      });
    } finally {
      resumed.close();
    }

    // cardEventLog pages through the same log, two at a time.
    const paged: CardEventView[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page++) {
      const answer = await log({ personId, after, first: 2 });
      expect(answer.errors).toBeUndefined();
      const { events, endCursor, hasMore } = answer.data!.cardEventLog;
      paged.push(...events);
      after = endCursor;
      if (!hasMore) break;
    }
    expect(paged.map((e) => e.eventId)).toEqual([
      issued!.eventId,
      ...first.events.map((e) => e.eventId),
      ...resumed.events.map((e) => e.eventId),
    ]);
  });

  it("a forged cursor is BAD_USER_INPUT, for the subscription and the query", async () => {
    const forged = Buffer.from(JSON.stringify({ v: 1, s: 1e12, t: Date.now() })).toString(
      "base64url",
    );
    for (const after of ["not-a-cursor", forged]) {
      expect(codeOf(await log({ after })), after).toBe("BAD_USER_INPUT");
      const subscriber = listen({ after }, await token());
      try {
        await eventually(async () => expect(subscriber.errors.length).toBeGreaterThan(0));
        expect(subscriber.errors[0]?.extensions?.["code"], after).toBe("BAD_USER_INPUT");
      } finally {
        subscriber.close();
      }
    }
  });
});
