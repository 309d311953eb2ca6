import { ApolloClient, InMemoryCache, gql } from "@apollo/client";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { createClient as createWsClient } from "graphql-ws";
import { beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { codeOf, personWithCard, runOk } from "./support/cards.js";
import { eventually } from "./support/eventually.js";
import { listen, webSocketUrl, type Listener, type Transport } from "./support/feed-listeners.js";
import {
  cardEventLog,
  feedOperation,
  loggedEvents,
  onlyEvent,
  type CardEventView,
} from "./support/feed-subscriber.js";
import { token, useTestHub } from "./support/hub.js";

/**
 * The feed's clients through the gateway (issue 25, part 2): graphql-ws over WebSocket beside
 * graphql-sse, a token that expires on an open stream, Apollo Client 4, CURSOR_EXPIRED, and open
 * streams that do not count as requests in flight. The hub's in-flight limit is 3 for this whole
 * file: every stream below is opened beside it.
 */

const MAX_IN_FLIGHT = 3;
const hub = useTestHub({ gateway: { maxInFlight: MAX_IN_FLIGHT } });
let cardEventsDocument: string;

beforeAll(async () => {
  cardEventsDocument = await feedOperation("CardEvents");
});

const cardEvents = () => cardEventsDocument;
const log = (url: string, variables: Record<string, unknown>) => cardEventLog(url, variables);
const change = runOk;

/** A person with a card, and the cursor of its CARD_ISSUED: a subscription after it gets what follows. */
async function freshCard(url: string) {
  const { personId, cardId } = await personWithCard(url);
  const [issued] = await loggedEvents(url, personId, 1);
  return { personId, cardId, issued: issued! };
}

function firstCode(listener: Listener): unknown {
  return listener.errors[0]?.extensions?.["code"];
}

describe("GraphQL over WebSocket (graphql-ws) at the gateway's /graphql", () => {
  it("a loss reported through HTTP reaches a WebSocket subscriber, the card resolved from cards", async () => {
    const { personId, cardId, issued } = await freshCard(hub().gateway.url);
    const subscriber = listen(
      "ws",
      hub().gateway.url,
      cardEvents(),
      { personId, after: issued.cursor },
      await token(),
    );
    try {
      await subscriber.connected;
      await change(hub().gateway.url, "ReportCardLoss", { cardId, temporary: true });
      const event = await onlyEvent(subscriber);
      expect(event).toMatchObject({
        type: "LOSS_REPORTED",
        statusBefore: "ARCHIVED",
        statusAfter: "TEMPORARY_LOSS",
        card: { id: cardId, status: "TEMPORARY_LOSS", holder: { id: personId } },
      });
    } finally {
      subscriber.close();
    }
  });

  it("FORBIDDEN without the scope events:read; UNAUTHENTICATED without a token or with a bad one", async () => {
    const cases: [string | null, string][] = [
      [await token({ scopes: ["cards:read", "pii:read"] }), "FORBIDDEN"],
      [null, "UNAUTHENTICATED"],
      ["not-a-token", "UNAUTHENTICATED"],
    ];
    for (const [bearer, code] of cases) {
      const subscriber = listen("ws", hub().gateway.url, cardEvents(), {}, bearer);
      try {
        await eventually(async () => expect(subscriber.errors.length).toBeGreaterThan(0));
        expect(firstCode(subscriber), code).toBe(code);
        expect(subscriber.events).toEqual([]);
        // No HTTP status rides on a WebSocket message.
        expect(subscriber.errors[0]?.extensions?.["http"]).toBeUndefined();
      } finally {
        subscriber.close();
      }
    }
  });
});

describe("a token that expires ends an open stream with UNAUTHENTICATED; resuming with a new token and the last cursor misses nothing", () => {
  it.each<Transport>(["sse", "ws"])("over %s", async (transport) => {
    const { personId, cardId, issued } = await freshCard(hub().gateway.url);
    const shortLived = await token({ expiresIn: "4s" });
    const expiring = listen(
      transport,
      hub().gateway.url,
      cardEvents(),
      { personId, after: issued.cursor },
      shortLived,
    );
    let resumed: Listener | null = null;
    try {
      await expiring.connected;
      await change(hub().gateway.url, "CollectCard", {
        cardId,
        collectedAt: new Date().toISOString(),
      });
      await eventually(async () => expect(expiring.events).toHaveLength(1));
      // The token's exp passes: the stream ends on its own with UNAUTHENTICATED.
      await eventually(async () => {
        expect(expiring.errors.length).toBeGreaterThan(0);
        expect(expiring.completed).toBe(true);
      }, 10_000);
      expect(firstCode(expiring)).toBe("UNAUTHENTICATED");
      expect(expiring.events.map((e) => e.type)).toEqual(["CARD_COLLECTED"]);

      // Committed while the client has no stream.
      await change(hub().gateway.url, "EnableSocialSecurityFunction", { cardId });
      await change(hub().gateway.url, "ReportCardLoss", { cardId, temporary: true });
      const missed = (await loggedEvents(hub().gateway.url, personId, 4)).slice(2);

      resumed = listen(
        transport,
        hub().gateway.url,
        cardEvents(),
        { personId, after: expiring.events.at(-1)!.cursor },
        await token(),
      );
      const current = resumed;
      await eventually(async () => expect(current.events.length).toBeGreaterThanOrEqual(2));
      expect(current.errors).toEqual([]);
      expect(current.events.map((e) => e.type)).toEqual([
        "SOCIAL_SECURITY_FUNCTION_ENABLED",
        "LOSS_REPORTED",
      ]);
      expect(current.events.map((e) => e.eventId)).toEqual(missed.map((e) => e.eventId));
    } finally {
      expiring.close();
      resumed?.close();
    }
  });
});

describe("Apollo Client 4 runs CardEvents over graphql-ws", () => {
  it("receives the events into an InMemoryCache without a cache warning", async () => {
    const warnings: unknown[][] = [];
    for (const method of ["warn", "error"] as const)
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        warnings.push(args);
      });
    const bearer = await token();
    const wsClient = createWsClient({
      url: webSocketUrl(hub().gateway.url),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${bearer}` },
      retryAttempts: 0,
    });
    const client = new ApolloClient({
      cache: new InMemoryCache(),
      link: new GraphQLWsLink(wsClient),
    });
    const { personId, cardId, issued } = await freshCard(hub().gateway.url);
    const received: CardEventView[] = [];
    const failures: unknown[] = [];
    const subscription = client
      .subscribe<{ cardEvents: CardEventView }>({
        query: gql(cardEvents()),
        variables: { personId, after: issued.cursor },
      })
      .subscribe({
        next: (result) => {
          if (result.error) failures.push(result.error);
          if (result.data) received.push(result.data.cardEvents);
        },
        error: (error: unknown) => failures.push(error),
      });
    try {
      // Two events: the second replaces the first in the cache, where a lost field would warn.
      await change(hub().gateway.url, "ReportCardLoss", { cardId, temporary: true });
      await change(hub().gateway.url, "WithdrawLossReport", { cardId });
      await eventually(async () => expect(received).toHaveLength(2));
      expect(failures).toEqual([]);
      expect(received.map((e) => [e.type, e.card?.id])).toEqual([
        ["LOSS_REPORTED", cardId],
        ["LOSS_WITHDRAWN", cardId],
      ]);
      // The card is a normalised entity in the cache, with its status as the last event left it
      // (the loss withdrawn: back to ARCHIVED, the card was never collected).
      const cached = client.cache.extract() as Record<string, { status?: string } | undefined>;
      expect(received[1]!.card?.status).toBe("ARCHIVED");
      expect(cached[`Card:${cardId}`]?.status).toBe("ARCHIVED");
      expect(warnings).toEqual([]);
    } finally {
      subscription.unsubscribe();
      client.stop();
      await wsClient.dispose();
      vi.restoreAllMocks();
    }
  });
});

describe("open streams are not requests in flight (HUB_MAX_IN_FLIGHT)", () => {
  it(`with 5 SSE and 2 WebSocket streams open on a gateway that serves ${MAX_IN_FLIGHT} requests at once, a query still answers`, async () => {
    const { personId, issued } = await freshCard(hub().gateway.url);
    const bearer = await token();
    const streams = [
      ...Array.from({ length: 5 }, () => "sse" as const),
      ...Array.from({ length: 2 }, () => "ws" as const),
    ].map((transport) =>
      listen(
        transport,
        hub().gateway.url,
        cardEvents(),
        { personId, after: issued.cursor },
        bearer,
      ),
    );
    try {
      await Promise.all(streams.map((s) => s.connected));
      const answer = await log(hub().gateway.url, { personId, first: 1 });
      expect(answer.status).toBe(200);
      expect(answer.errors).toBeUndefined();
      expect(answer.data!.cardEventLog.events).toHaveLength(1);
      // Every stream is still open and well.
      expect(streams.flatMap((s) => s.errors)).toEqual([]);
      expect(streams.some((s) => s.completed)).toBe(false);
    } finally {
      for (const stream of streams) stream.close();
    }
  });
});

describe("a hub whose log keeps 2 s of events (HUB_EVENT_RETENTION_DAYS) and holds 2 streams (HUB_MAX_STREAMS)", () => {
  // A fraction of a day: HUB_EVENT_RETENTION_DAYS takes any positive number.
  const short = useTestHub({
    seed: false,
    gateway: { maxStreams: 2 },
    feedEnv: { HUB_EVENT_RETENTION_DAYS: String(2 / 86_400) },
  });

  it("a cursor older than the retention is CURSOR_EXPIRED over SSE, WebSocket and cardEventLog; a forged one BAD_USER_INPUT", async () => {
    const { issued } = await freshCard(short().gateway.url);
    await eventually(
      async () =>
        expect(codeOf(await log(short().gateway.url, { after: issued.cursor }))).toBe(
          "CURSOR_EXPIRED",
        ),
      10_000,
      250,
    );
    const forged = Buffer.from(JSON.stringify({ v: 1, s: 1e12, t: Date.now() })).toString(
      "base64url",
    );
    expect(codeOf(await log(short().gateway.url, { after: forged }))).toBe("BAD_USER_INPUT");
    for (const transport of ["sse", "ws"] as const)
      for (const [after, code] of [
        [issued.cursor, "CURSOR_EXPIRED"],
        [forged, "BAD_USER_INPUT"],
      ] as const) {
        const subscriber = listen(
          transport,
          short().gateway.url,
          cardEvents(),
          { after },
          await token(),
        );
        try {
          await eventually(async () => expect(subscriber.errors.length).toBeGreaterThan(0));
          expect(firstCode(subscriber), `${transport} ${code}`).toBe(code);
          expect(subscriber.events).toEqual([]);
        } finally {
          subscriber.close();
        }
      }
  });

  it("past HUB_MAX_STREAMS a stream is refused with 503 over SSE and WebSocket, while queries answer", async () => {
    const bearer = await token();
    const open = [
      listen("sse", short().gateway.url, cardEvents(), {}, bearer),
      listen("ws", short().gateway.url, cardEvents(), {}, bearer),
    ];
    try {
      await Promise.all(open.map((s) => s.connected));
      const sse = await fetch(short().gateway.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "text/event-stream",
          authorization: `Bearer ${bearer}`,
        },
        body: JSON.stringify({ query: cardEvents() }),
      });
      expect(sse.status).toBe(503);
      expect(sse.headers.get("retry-after")).toBe("1");
      expect(
        ((await sse.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions
          .code,
      ).toBe("SERVICE_UNAVAILABLE");
      const refused = await new Promise<number>((resolve, reject) => {
        const socket = new WebSocket(webSocketUrl(short().gateway.url), "graphql-transport-ws");
        socket.once("unexpected-response", (_request, response) =>
          resolve(response.statusCode ?? 0),
        );
        socket.once("open", () => reject(new Error("a WebSocket past the limit was accepted")));
        socket.once("error", () => undefined);
      });
      expect(refused).toBe(503);
      const answer = await log(short().gateway.url, { first: 1 });
      expect(answer.errors).toBeUndefined();
    } finally {
      for (const stream of open) stream.close();
    }
    // Closed streams free their places.
    await eventually(async () => {
      const again = listen("sse", short().gateway.url, cardEvents(), {}, bearer);
      try {
        await Promise.race([
          again.connected,
          new Promise((_, reject) => setTimeout(() => reject(new Error("not yet")), 1_000)),
        ]);
      } finally {
        again.close();
      }
    });
  });
});
