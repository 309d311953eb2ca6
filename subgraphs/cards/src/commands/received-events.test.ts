import {
  derivedEventId,
  EffectScope,
  HubError,
  type EventPayload,
  type EventType,
  type HubEvent,
  type Outbox,
  type ReceivedEvent,
} from "@hub/kit";
import { useTestMongo } from "@hub/kit/testing";
import { afterEach, describe, expect, it } from "vitest";
import type { CardDocument } from "../store/card-document.js";
import { freshCards, issuePlan, metaFor, watchWrites } from "../testing/card-fixtures.js";

const client = useTestMongo({ monitorCommands: true });
let stopWatching: () => void = () => undefined;
afterEach(() => stopWatching());

let eventIds = 0;
/** An event as the inbox hands it to a handler (payload checked against the catalogue). */
function received<T extends EventType>(
  type: T,
  payload: ReceivedEvent<T>["payload"],
  overrides: Partial<HubEvent> = {},
): ReceivedEvent<T> {
  return {
    id: `e${++eventIds}`,
    type,
    payload,
    actor: "t",
    channel: "BANK_COUNTER",
    occurredAt: "2026-12-01T09:00:00.000Z",
    source: "test",
    ...overrides,
  } as ReceivedEvent<T>;
}

/**
 * What the cards subgraph's lane to the feed holds, in the order the relay sends it (enqueuedAt,
 * then id): a card event by its change, a passed-on event by the type it passes on.
 */
async function feedLane(outbox: Outbox, cardId?: string): Promise<string[]> {
  const docs = await outbox.events
    .find({ destination: "feed" })
    .sort({ enqueuedAt: 1, _id: 1 })
    .toArray();
  return docs
    .filter((doc) => !cardId || JSON.stringify(doc.payload).includes(cardId))
    .map((doc) =>
      doc.type === "ForwardedToFeed"
        ? (doc.payload as EventPayload<"ForwardedToFeed">).source.type
        : String(doc.payload["change"] ?? doc.type),
    );
}

/** A registered person holding one issued (ARCHIVED) card. */
async function personWithCard() {
  const parts = await freshCards(client(), "handlers");
  await parts.registry.add("p_1", new Date("2026-11-01T00:00:00Z"));
  const { cardId } = await parts.commands.issue(metaFor("issueCard"), issuePlan("p_1"));
  return { ...parts, cardId };
}

describe("BankAccountStatusChanged: the mirror is one conditional update", () => {
  it("writes once, by the card's full shard key and only if newer; an older or repeated version writes nothing", async () => {
    const { db, cards, handlers, cardId } = await personWithCard();
    const watched = watchWrites(client(), db.databaseName);
    stopWatching = watched.stop;
    const status = (accountVersion: number, value: string) =>
      handlers.BankAccountStatusChanged(
        received("BankAccountStatusChanged", { cardId, status: value, accountVersion }),
        new EffectScope(),
      );
    await status(3, "CANCELLATION_REQUIRED");
    await status(2, "ACTIVE");
    await status(3, "CANCELLATION_REQUIRED");
    const mirrorWrites = watched.writes.filter((write) => write.collection === "cards");
    // Each delivery is one update whose filter carries the guard: none reads and then writes.
    expect(mirrorWrites).toHaveLength(3);
    for (const write of mirrorWrites)
      expect(write.filter).toMatchObject({ personId: "p_1", _id: cardId, $or: expect.any(Array) });
    expect(await cards.cards.findOne({ _id: cardId })).toMatchObject({
      bankAccountStatus: "CANCELLATION_REQUIRED",
      bankAccountVersion: 3,
    });
  });

  it("a mirror never announced (field missing or null) takes the first version", async () => {
    const { cards, handlers, cardId } = await personWithCard();
    await cards.cards.updateOne({ _id: cardId }, { $set: { bankAccountVersion: null } });
    await handlers.BankAccountStatusChanged(
      received("BankAccountStatusChanged", { cardId, status: "NOT_ACTIVATED", accountVersion: 1 }),
      new EffectScope(),
    );
    expect(await cards.cards.findOne({ _id: cardId })).toMatchObject({
      bankAccountStatus: "NOT_ACTIVATED",
      bankAccountVersion: 1,
    });
  });

  it("an account's versions delivered all at once, in any order, end at the newest", async () => {
    const { cards, handlers, cardId } = await personWithCard();
    const statuses = [
      "NOT_ACTIVATED",
      "ACTIVE",
      "LOSS_REPORTED",
      "ACTIVE",
      "CANCELLATION_REQUIRED",
    ];
    const deliveries = statuses.flatMap((value, i) => [
      received("BankAccountStatusChanged", { cardId, status: value, accountVersion: i + 1 }),
      received("BankAccountStatusChanged", { cardId, status: value, accountVersion: i + 1 }),
    ]);
    await Promise.all(
      [...deliveries.reverse()].map((event) =>
        handlers.BankAccountStatusChanged(event, new EffectScope()),
      ),
    );
    expect(await cards.cards.findOne({ _id: cardId })).toMatchObject({
      bankAccountStatus: "CANCELLATION_REQUIRED",
      bankAccountVersion: 5,
    });
  });

  it("a card the cards subgraph never stored fails the delivery (retried, then dead-lettered), not dropped", async () => {
    const { handlers } = await personWithCard();
    await expect(
      handlers.BankAccountStatusChanged(
        received("BankAccountStatusChanged", {
          cardId: "c_unknown",
          status: "ACTIVE",
          accountVersion: 2,
        }),
        new EffectScope(),
      ),
    ).rejects.toThrow(/c_unknown/);
  });
});

describe("ElectronicPasswordLocked before PersonRegistered", () => {
  const locked = (personId: string, lockedUntil: string) =>
    received("ElectronicPasswordLocked", { personId, lockedUntil }, { channel: "APP" });
  const registered = (personId: string) =>
    received("PersonRegistered", { personId }, { occurredAt: "2026-11-30T00:00:00.000Z" });

  it("R-PWD-4: a lock that arrives before the person's registration is kept, and no electronic card is issued during it", async () => {
    const { registry, commands, handlers } = await freshCards(client(), "lock_first");
    await handlers.ElectronicPasswordLocked(
      locked("p_1", "2026-12-02T09:00:00.000Z"),
      new EffectScope(),
    );
    // Mirrored, but the person is not registered yet: no card is issued to them.
    expect(await registry.electronicLockUntil("p_1")).toEqual(new Date("2026-12-02T09:00:00Z"));
    expect(await registry.find("p_1")).toBeNull();
    expect(await registry.has("p_1")).toBe(false);
    await expect(commands.issue(metaFor("issueCard"), issuePlan("p_1"))).rejects.toMatchObject({
      code: "NOT_FOUND",
    });

    await handlers.PersonRegistered(registered("p_1"), new EffectScope());
    expect(await registry.has("p_1")).toBe(true);
    expect(await registry.find("p_1")).toMatchObject({
      at: new Date("2026-11-30T00:00:00Z"),
      electronicPasswordLockedUntil: new Date("2026-12-02T09:00:00Z"),
    });
    const { cardId } = await commands.issue(metaFor("issueCard"), issuePlan("p_1"));
    await expect(
      commands.run(
        cardId,
        { kind: "ISSUE_ELECTRONIC_CARD", faceMatched: true },
        metaFor("issueElectronicCard", {
          channel: "APP",
          now: new Date("2026-12-01T10:00:00Z"),
        }),
      ),
    ).rejects.toMatchObject({ code: "PASSWORD_LOCKED" });
  });

  it("keeps the latest lock whatever the order, and duplicates and concurrent deliveries change nothing", async () => {
    const { registry, handlers } = await freshCards(client(), "lock_order");
    const ends = [
      "2026-12-02T09:00:00.000Z",
      "2026-12-03T09:00:00.000Z",
      "2026-12-01T09:00:00.000Z",
    ];
    // All at once, each twice, before the registration (several upserts of one missing entry).
    await Promise.all(
      [...ends, ...ends].map((end) =>
        handlers.ElectronicPasswordLocked(locked("p_1", end), new EffectScope()),
      ),
    );
    await handlers.PersonRegistered(registered("p_1"), new EffectScope());
    await handlers.ElectronicPasswordLocked(locked("p_1", ends[0]!), new EffectScope());
    expect(await registry.electronicLockUntil("p_1")).toEqual(new Date(ends[1]!));
  });
});

describe("enable-on-event handlers swallow only final outcomes", () => {
  const activated = (cardId: string, id?: string) =>
    received(
      "FinancialFunctionActivated",
      { cardId, agent: null, accountVersion: 2 },
      id ? { id } : {},
    );

  it("R-BANK-2: a lost race (CONFLICT) fails the delivery so the relay retries it", async () => {
    const { cards, handlers, cardId } = await personWithCard();
    // Every read of the card answers a stale version: each guarded write loses its race.
    const findOne = cards.cards.findOne.bind(cards.cards);
    cards.cards.findOne = (async (...args: Parameters<typeof findOne>) => {
      const doc = (await findOne(...args)) as CardDocument | null;
      return doc && { ...doc, version: doc.version - 1 };
    }) as typeof cards.cards.findOne;
    await expect(
      handlers.FinancialFunctionActivated(activated(cardId), new EffectScope()),
    ).rejects.toMatchObject({ code: "CONFLICT" });
  });

  it("a card not stored fails the delivery (NOT_FOUND is not final: cards exist before their events)", async () => {
    const { handlers } = await personWithCard();
    const attempt = handlers.InitialPasswordChanged(
      received("InitialPasswordChanged", { cardId: "c_unknown" }, { channel: "APP" }),
      new EffectScope(),
    );
    await expect(attempt).rejects.toBeInstanceOf(HubError);
    await expect(attempt).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("R-CARD-10: a cancelled card consumes the event without change (INVALID_TRANSITION is final); the activation still reaches the feed", async () => {
    const { cards, commands, handlers, outbox, cardId } = await personWithCard();
    await commands.run(cardId, { kind: "CANCEL", reason: "moved abroad" }, metaFor("cancelCard"));
    const before = await cards.cards.findOne({ _id: cardId });
    const event = activated(cardId);
    await handlers.FinancialFunctionActivated(event, new EffectScope());
    const after = await cards.cards.findOne({ _id: cardId });
    // The card as the rules see it is unchanged: only its record of the event is new (and the
    // stamp of the event it passed on, which the card's next events follow).
    const { version, keys, enqueuedThrough, ...card } = after!;
    const {
      version: versionBefore,
      keys: keysBefore,
      enqueuedThrough: throughBefore,
      ...cardBefore
    } = before!;
    expect(card).toEqual(cardBefore);
    expect(enqueuedThrough!.getTime()).toBeGreaterThan(throughBefore!.getTime());
    expect(version).toBe(versionBefore + 1);
    expect(keys?.map((k) => k.id)).toEqual([
      ...(keysBefore ?? []).map((k) => k.id),
      `event:${event.id}`,
    ]);
    // The bank did activate the account: the feed logs it (CONTRACT.md: every committed change).
    expect(await feedLane(outbox)).toEqual([
      "CardIssued",
      "CANCELLED",
      "FinancialFunctionActivated",
    ]);
  });

  it("R-CARD-4: a redelivered or second enabling event adds no history entry", async () => {
    const { cards, handlers, cardId } = await personWithCard();
    await handlers.FinancialFunctionActivated(activated(cardId, "e-act"), new EffectScope());
    await handlers.FinancialFunctionActivated(activated(cardId, "e-act"), new EffectScope());
    await handlers.InitialPasswordChanged(
      received("InitialPasswordChanged", { cardId }, { channel: "APP" }),
      new EffectScope(),
    );
    const card = await cards.cards.findOne({ _id: cardId });
    expect(card).toMatchObject({ status: "NORMAL", socialFunction: { enabled: true } });
    const history = await cards.findEventsByCardIds([cardId]);
    expect(history.map((entry) => entry.type)).toEqual(["ISSUED", "SOCIAL_FUNCTION_ENABLED"]);
    expect(history[1]).toMatchObject({ channel: "BANK_COUNTER" });
  });
});

/**
 * docs/feed.md "Per-card order": the bank's and passwords' events about a card reach the feed
 * through cards, passed on in the write that records them on the card, so the card's one lane to
 * the feed holds every entry of the card in the order cards wrote them.
 */
describe("events the feed reports are passed on through cards, in the card's order", () => {
  it("R-BANK-2: the activation is passed on in the write that enables the card, before the change it caused", async () => {
    const { cards, handlers, outbox, registry, commands } = await freshCards(client(), "pass_on");
    // Several cards: two events of one write prepared in one millisecond must still leave in the
    // order they were written (a lane is sent by enqueuedAt, then by random id).
    for (let n = 0; n < 12; n++) {
      await registry.add(`p_${n}`, new Date("2026-11-01T00:00:00Z"));
      const { cardId } = await commands.issue(metaFor("issueCard"), issuePlan(`p_${n}`));
      const event = received("FinancialFunctionActivated", {
        cardId,
        agent: null,
        accountVersion: 2,
        fromStatus: "NOT_ACTIVATED",
        status: "ACTIVE",
      });
      await handlers.FinancialFunctionActivated(event, new EffectScope());
      expect(await feedLane(outbox, cardId)).toEqual([
        "CardIssued",
        "FinancialFunctionActivated",
        "SOCIAL_FUNCTION_ENABLED",
      ]);
      const card = await cards.cards.findOne({ _id: cardId });
      // One write (version 1 → 2) recorded the event and carried both events it caused.
      expect(card?.version).toBe(2);
      const forwardId = derivedEventId(event.id, "ForwardedToFeed");
      expect(card?.keys?.find((k) => k.id === `event:${event.id}`)?.events).toEqual(
        expect.arrayContaining([`${forwardId}:feed`]),
      );
      expect(await outbox.events.findOne({ _id: `${forwardId}:feed` })).toMatchObject({
        eventId: forwardId,
        type: "ForwardedToFeed",
        // As the bank committed it: its actor, channel and time.
        actor: "t",
        channel: "BANK_COUNTER",
        occurredAt: new Date("2026-12-01T09:00:00.000Z"),
        payload: {
          sourceId: event.id,
          source: {
            type: "FinancialFunctionActivated",
            payload: { ...event.payload, personId: `p_${n}` },
          },
        },
      });
    }
  });

  it("the bank's cancellation of the account is passed on (once, whatever the redeliveries), other account statuses are only mirrored", async () => {
    const { cards, handlers, outbox, cardId } = await personWithCard();
    const status = (accountVersion: number, value: string, fromStatus: string, id: string) =>
      handlers.BankAccountStatusChanged(
        received(
          "BankAccountStatusChanged",
          { cardId, status: value, fromStatus, accountVersion },
          { id },
        ),
        new EffectScope(),
      );
    await status(2, "CANCELLATION_REQUIRED", "NOT_ACTIVATED", "e-req");
    expect((await cards.cards.findOne({ _id: cardId }))?.version).toBe(1);
    await status(3, "CANCELLED", "CANCELLATION_REQUIRED", "e-cancel");
    await status(3, "CANCELLED", "CANCELLATION_REQUIRED", "e-cancel");
    expect(await feedLane(outbox, cardId)).toEqual(["CardIssued", "BankAccountStatusChanged"]);
    expect(await cards.cards.findOne({ _id: cardId })).toMatchObject({
      version: 2,
      bankAccountStatus: "CANCELLED",
      bankAccountVersion: 3,
    });
  });

  it("a card password's lock is passed on with the card's holder; a redelivery writes nothing, and one after the card's record of it is gone passes on the same id", async () => {
    const { cards, handlers, outbox, cardId } = await personWithCard();
    const event = received(
      "CardPasswordStateChanged",
      { cardId, personId: null, change: "LOCKED", fromState: "SET", state: "LOCKED" },
      { channel: "COUNTER" },
    );
    await handlers.CardPasswordStateChanged(event, new EffectScope());
    const written = await cards.cards.findOne({ _id: cardId });
    await handlers.CardPasswordStateChanged(event, new EffectScope());
    expect(await cards.cards.findOne({ _id: cardId })).toEqual(written);
    const forwards = () => outbox.events.find({ type: "ForwardedToFeed" }).toArray();
    expect(await forwards()).toMatchObject([
      {
        _id: `${derivedEventId(event.id, "ForwardedToFeed")}:feed`,
        payload: { source: { payload: { personId: "p_1", change: "LOCKED" } } },
      },
    ]);
    // Records are kept for a day (or the newest 32): an operator's redelivery after that writes
    // the card again, and passes on the same id, which is stored once (and logged once).
    await cards.cards.updateOne({ _id: cardId }, { $set: { keys: [] } });
    await handlers.CardPasswordStateChanged(event, new EffectScope());
    expect((await cards.cards.findOne({ _id: cardId }))?.version).toBe(written!.version + 1);
    expect(await forwards()).toHaveLength(1);
  });

  it("an event delivered more than a day after it happened keeps its record for a day from when cards applied it: a request after it does not drop it, and a redelivery writes nothing", async () => {
    const { cards, commands, handlers, outbox, cardId } = await personWithCard();
    const late = received(
      "CardPasswordStateChanged",
      { cardId, personId: null, change: "LOCKED", fromState: "SET", state: "LOCKED" },
      { channel: "COUNTER", occurredAt: new Date(Date.now() - 2 * 86_400_000).toISOString() },
    );
    await handlers.CardPasswordStateChanged(late, new EffectScope());
    const now = new Date();
    await commands.run(
      cardId,
      { kind: "COLLECT", collectedAt: now },
      metaFor("collectCard", { now }),
    );
    const written = await cards.cards.findOne({ _id: cardId });
    expect(written?.keys?.map((record) => record.id)).toContain(`event:${late.id}`);
    await handlers.CardPasswordStateChanged(late, new EffectScope());
    expect(await cards.cards.findOne({ _id: cardId })).toEqual(written);
    expect(await outbox.events.countDocuments({ type: "ForwardedToFeed" })).toBe(1);
  });

  it("R-BANK-2: the change an enabling event causes is announced under an id derived from the event's, so the command made again announces the same id", async () => {
    const { cards, handlers, outbox, cardId } = await personWithCard();
    const event = received("InitialPasswordChanged", { cardId }, { channel: "COUNTER" });
    await handlers.InitialPasswordChanged(event, new EffectScope());
    const statusId = derivedEventId(event.id, "card status");
    expect(await outbox.events.countDocuments({ eventId: statusId })).toBe(3);
    // As after a failover that rolled the card's write back: the event comes again and the
    // command is made again.
    await cards.cards.updateOne(
      { _id: cardId },
      { $set: { keys: [], "socialFunction.enabled": false, status: "ARCHIVED", version: 1 } },
    );
    await handlers.InitialPasswordChanged(event, new EffectScope());
    expect(await outbox.events.countDocuments({ eventId: statusId })).toBe(3);
    expect(await outbox.events.countDocuments({ type: { $ne: "CardIssued" } })).toBe(3);
  });

  it("an event about a card the cards subgraph never stored fails the delivery (retried, then dead-lettered)", async () => {
    const { handlers } = await personWithCard();
    await expect(
      handlers.CardPasswordStateChanged(
        received("CardPasswordStateChanged", {
          cardId: "c_unknown",
          personId: null,
          change: "RESET",
          fromState: "LOCKED",
          state: "INITIAL",
        }),
        new EffectScope(),
      ),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});
