import { EffectScope, HubError, type EventType, type HubEvent, type ReceivedEvent } from "@hub/kit";
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

  it("R-CARD-10: a cancelled card consumes the event without change (INVALID_TRANSITION is final)", async () => {
    const { cards, commands, handlers, cardId } = await personWithCard();
    await commands.run(cardId, { kind: "CANCEL", reason: "moved abroad" }, metaFor("cancelCard"));
    const before = await cards.cards.findOne({ _id: cardId });
    await handlers.FinancialFunctionActivated(activated(cardId), new EffectScope());
    expect(await cards.cards.findOne({ _id: cardId })).toEqual(before);
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
