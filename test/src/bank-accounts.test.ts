import {
  hs256ServiceTokens,
  injectFault,
  InjectedCrash,
  keyRecordId,
  Outbox,
  subgraphDatabaseName,
  type EventBatchAnswer,
  type HubEvent,
  type KeyRecord,
  type OutboxDocument,
  type SubgraphName,
} from "@hub/kit";
import { describe, expect, it } from "vitest";
import { bankStatus, cardView, codeOf, freshIdNumber, run } from "./support/cards.js";
import { eventually } from "./support/eventually.js";
import { useTestHub, TEST_SECRET, type GraphQLResponse } from "./support/hub.js";

const hub = useTestHub({ seed: false });

/** Contract v2: an answer that shows all its own effects names none as pending. */
function expectNoPendingEffects(answer: GraphQLResponse<unknown>): void {
  expect(answer.errors, JSON.stringify(answer.errors)).toBeUndefined();
  expect(answer.extensions?.["pendingEffects"], JSON.stringify(answer.extensions)).toBeUndefined();
}

/**
 * A card whose bank account is open: contract v2 says the IssueCard answer already shows it
 * (opened by the CardIssued event), and so does the very next request, with no waiting.
 */
async function cardWithAccount(): Promise<string> {
  const registered = await run<{ registerPerson: { person: { id: string } } }>(
    hub().gateway.url,
    "RegisterPerson",
    { idNumber: freshIdNumber(), name: "开户人" },
  );
  expectNoPendingEffects(registered);
  const issued = await run<{
    issueCard: { card: { id: string; bankAccount: { status: string } | null } };
  }>(hub().gateway.url, "IssueCard", {
    personId: registered.data!.registerPerson.person.id,
    province: "44",
    issuingBank: "中国工商银行",
  });
  expectNoPendingEffects(issued);
  const card = issued.data!.issueCard.card;
  expect(card.bankAccount?.status).toBe("NOT_ACTIVATED");
  expect(await bankStatus(hub().gateway.url, card.id)).toBe("NOT_ACTIVATED");
  return card.id;
}

interface Activation {
  activateFinancialFunction: {
    bankAccount: { id: string; status: string; bank: string };
    card: {
      id: string;
      status: string;
      socialSecurityFunction: { enabled: boolean; channel: string | null };
    };
  };
}

interface BankCancellation {
  cancelBankAccount: { bankAccount: { id: string; status: string }; card: { status: string } };
}

const cardsDb = () => hub().client.db(subgraphDatabaseName(hub().dbPrefix, "cards"));
const bankDb = () => hub().client.db(subgraphDatabaseName(hub().dbPrefix, "bank-accounts"));
const passwordsDb = () => hub().client.db(subgraphDatabaseName(hub().dbPrefix, "passwords"));

interface StoredCard {
  _id: string;
  version: number;
  bankAccountStatus: string | null;
  bankAccountVersion?: number | null;
  keys?: KeyRecord[];
}
interface StoredAccount {
  _id: string;
  cardId: string;
  status: string;
  version: number;
  card?: { status: string; version: number } | null;
  keys?: KeyRecord[];
}

const storedCard = async (cardId: string) =>
  (await cardsDb().collection<StoredCard>("cards").findOne({ _id: cardId }))!;
const storedAccount = async (cardId: string) =>
  (await bankDb().collection<StoredAccount>("bank_accounts").findOne({ cardId }))!;

/**
 * Every event the subgraphs released to their outboxes so far, exactly as the relays deliver
 * them: read off the insert commands the hub's database saw (delivered events leave the outbox,
 * so the collection itself no longer has them). A replay built from these is a real redelivery:
 * the real event id and a payload that fits the catalogue.
 */
function releasedEvents(): OutboxDocument[] {
  const seen = new Map<string, OutboxDocument>();
  for (const command of hub().commands)
    if (command.commandName === "insert" && command.command["insert"] === "outbox")
      for (const doc of command.command["documents"] as OutboxDocument[]) seen.set(doc._id, doc);
  return [...seen.values()];
}

/** The one released event of `type` for `destination` that `match` picks. */
function releasedEvent(
  type: OutboxDocument["type"],
  destination: SubgraphName,
  match: (payload: Record<string, unknown>) => boolean,
): OutboxDocument {
  const found = releasedEvents().filter(
    (doc) => doc.type === type && doc.destination === destination && match(doc.payload),
  );
  expect(found, `${type} → ${destination}`).toHaveLength(1);
  return found[0]!;
}

/** An outbox document as the relay sends it over the wire (captured commands hold its dates). */
const onTheWire = (doc: OutboxDocument): HubEvent =>
  Outbox.toHubEvent({ ...doc, occurredAt: new Date(doc.occurredAt) });

/** Delivers `events` to `destination`'s real /events endpoint as `source`'s relay does. */
async function deliver(
  destination: SubgraphName,
  source: SubgraphName,
  events: HubEvent[],
): Promise<EventBatchAnswer> {
  const endpoint = hub()
    .subgraphs.get(destination)!
    .url.replace(/graphql$/, "events");
  const serviceToken = await hs256ServiceTokens(TEST_SECRET, source)();
  const response = await fetch(endpoint, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${serviceToken}` },
    body: JSON.stringify({ events }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as EventBatchAnswer;
}

/** A delivery the receiver took whole (nothing failed, nothing pending downstream). */
async function deliverApplied(
  destination: SubgraphName,
  source: SubgraphName,
  events: HubEvent[],
): Promise<void> {
  const answer = await deliver(destination, source, events);
  expect(answer.failed ?? null, JSON.stringify(answer.failed)).toBeNull();
  expect(answer).toMatchObject({ applied: events.length, pending: {} });
}

describe("bank accounts (R-BANK-*) through the gateway", () => {
  it("R-BANK-1: the financial function is activated only at the bank counter or door to door; any other channel is told why", async () => {
    const cardId = await cardWithAccount();
    for (const channel of ["COUNTER", "APP", "WEBSITE", "PHARMACY"] as const) {
      const refused = await run(
        hub().gateway.url,
        "ActivateFinancialFunction",
        { cardId, idempotencyKey: `a-${channel}` },
        channel,
      );
      expect(codeOf(refused)).toBe("CHANNEL_NOT_ALLOWED");
      expect(refused.errors![0]!.message).toMatch(/counter of the card's partner bank/);
    }
    expect(await bankStatus(hub().gateway.url, cardId)).toBe("NOT_ACTIVATED");
    const doorToDoor = await run<Activation>(
      hub().gateway.url,
      "ActivateFinancialFunction",
      {
        cardId,
        idempotencyKey: "d2d",
        agent: { idNumber: "11010519491231002X", name: "家属", powerOfAttorneyRef: "POA-7" },
      },
      "DOOR_TO_DOOR",
    );
    expectNoPendingEffects(doorToDoor);
    expect(doorToDoor.data!.activateFinancialFunction.bankAccount).toMatchObject({
      status: "ACTIVE",
      bank: "中国工商银行",
    });
    const again = await run(
      hub().gateway.url,
      "ActivateFinancialFunction",
      { cardId, idempotencyKey: "again" },
      "BANK_COUNTER",
    );
    expect(codeOf(again)).toBe("INVALID_TRANSITION");
  });

  it("R-BANK-2: activating the financial function enables the card's social function, recorded as BANK_COUNTER by the original actor, in the answer and the next request", async () => {
    const cardId = await cardWithAccount();
    const activated = await run<Activation>(
      hub().gateway.url,
      "ActivateFinancialFunction",
      { cardId, idempotencyKey: "b2" },
      "BANK_COUNTER",
      "bank-teller-3",
    );
    expectNoPendingEffects(activated);
    expect(activated.data!.activateFinancialFunction).toMatchObject({
      bankAccount: { status: "ACTIVE" },
      card: {
        id: cardId,
        status: "NORMAL",
        socialSecurityFunction: { enabled: true, channel: "BANK_COUNTER" },
      },
    });
    // The caller's very next request: no polling (contract v2).
    const view = await cardView(hub().gateway.url, cardId);
    expect(view.status).toBe("NORMAL");
    expect(view.history.at(-1)).toMatchObject({
      type: "SOCIAL_FUNCTION_ENABLED",
      channel: "BANK_COUNTER",
      actor: "bank-teller-3",
    });
  });

  it("R-BANK-3: a cancelled card leaves its account CANCELLATION_REQUIRED until it is cancelled at the bank counter", async () => {
    const cardId = await cardWithAccount();
    expectNoPendingEffects(
      await run(
        hub().gateway.url,
        "ActivateFinancialFunction",
        { cardId, idempotencyKey: "b3" },
        "BANK_COUNTER",
      ),
    );
    const cancelledCard = await run<{
      cancelCard: { card: { status: string; bankAccount: { status: string } } };
    }>(hub().gateway.url, "CancelCard", { cardId, reason: "moved abroad", idempotencyKey: "c3" });
    expectNoPendingEffects(cancelledCard);
    expect(cancelledCard.data!.cancelCard.card).toMatchObject({
      status: "CANCELLED",
      bankAccount: { status: "CANCELLATION_REQUIRED" },
    });
    expect(await bankStatus(hub().gateway.url, cardId)).toBe("CANCELLATION_REQUIRED");
    expect(
      codeOf(
        await run(
          hub().gateway.url,
          "CancelBankAccount",
          { cardId, idempotencyKey: "x" },
          "COUNTER",
        ),
      ),
    ).toBe("CHANNEL_NOT_ALLOWED");
    const cancelled = await run<BankCancellation>(
      hub().gateway.url,
      "CancelBankAccount",
      { cardId, idempotencyKey: "x" },
      "BANK_COUNTER",
    );
    expectNoPendingEffects(cancelled);
    expect(cancelled.data!.cancelBankAccount.bankAccount.status).toBe("CANCELLED");
    // The cards subgraph's mirror (R-DUP-2's advice reads it) is one of the answer's effects:
    // it already shows the cancellation when the answer comes.
    expect((await storedCard(cardId)).bankAccountStatus).toBe("CANCELLED");
  });
});

describe("idempotent bank mutations (CONTRACT.md Writes)", () => {
  it("activateFinancialFunction replayed with its key: the first answer again, one activation, one enabling", async () => {
    const cardId = await cardWithAccount();
    const input = { cardId, idempotencyKey: "act-twice" };
    const first = await run<Activation>(
      hub().gateway.url,
      "ActivateFinancialFunction",
      input,
      "BANK_COUNTER",
    );
    expectNoPendingEffects(first);
    const account = await storedAccount(cardId);
    const card = await cardView(hub().gateway.url, cardId);
    const replay = await run<Activation>(
      hub().gateway.url,
      "ActivateFinancialFunction",
      input,
      "BANK_COUNTER",
    );
    // Run again, the activation would be INVALID_TRANSITION (the account is ACTIVE already).
    expectNoPendingEffects(replay);
    expect(replay.data).toEqual(first.data);
    expect((await storedAccount(cardId)).version).toBe(account.version);
    expect(await cardView(hub().gateway.url, cardId)).toEqual(card);
    expect(card.history.filter((e) => e.type === "SOCIAL_FUNCTION_ENABLED")).toHaveLength(1);
    const activations = releasedEvents().filter(
      (e) => e.type === "FinancialFunctionActivated" && e.payload["cardId"] === cardId,
    );
    // One event (one outbox document per receiver: the cards subgraph and the feed).
    expect(new Set(activations.map((e) => e.eventId)).size).toBe(1);
    // The same key with other input (an agent now) is another request: CONFLICT, nothing changes.
    const other = await run(
      hub().gateway.url,
      "ActivateFinancialFunction",
      {
        ...input,
        agent: { idNumber: "11010519491231002X", name: "家属", powerOfAttorneyRef: "POA-1" },
      },
      "BANK_COUNTER",
    );
    expect(codeOf(other)).toBe("CONFLICT");
    expect((await storedAccount(cardId)).version).toBe(account.version);
  });

  it("cancelBankAccount replayed with its key: the first answer again, one cancellation announced", async () => {
    const cardId = await cardWithAccount();
    const input = { cardId, idempotencyKey: "cancel-twice" };
    const first = await run<BankCancellation>(
      hub().gateway.url,
      "CancelBankAccount",
      input,
      "BANK_COUNTER",
    );
    expectNoPendingEffects(first);
    expect(first.data!.cancelBankAccount.bankAccount.status).toBe("CANCELLED");
    const account = await storedAccount(cardId);
    const replay = await run<BankCancellation>(
      hub().gateway.url,
      "CancelBankAccount",
      input,
      "BANK_COUNTER",
    );
    // Run again, it would be INVALID_TRANSITION ("already cancelled").
    expectNoPendingEffects(replay);
    expect(replay.data).toEqual(first.data);
    expect(await storedAccount(cardId)).toEqual(account);
    const announced = releasedEvents().filter(
      (e) =>
        e.type === "BankAccountStatusChanged" &&
        e.payload["cardId"] === cardId &&
        e.payload["status"] === "CANCELLED",
    );
    // One event (one outbox document per receiver: the cards subgraph and the feed).
    expect(new Set(announced.map((e) => e.eventId)).size).toBe(1);
  });
});

describe("cross-subgraph effects are never lost, and applied once", () => {
  it("activation while the cards subgraph is down succeeds; once it is back the card is enabled, exactly once even when its first application crashed before answering", async () => {
    const cardId = await cardWithAccount();
    const bankOutbox = () =>
      hub()
        .subgraphs.get("bank-accounts")!
        .url.replace(/graphql$/, "outbox");
    const outboxStats = async () =>
      (await (await fetch(bankOutbox())).json()) as {
        pending: number;
        oldestPendingMs: number;
        failedAttempts: number;
        deadLetters: number;
      };
    let crashes = 0;
    let stopCrashing = (): void => undefined;
    await hub().stopSubgraph("cards");
    try {
      const activated = await run<Activation>(
        hub().gateway.url,
        "ActivateFinancialFunction",
        { cardId, idempotencyKey: "down-1" },
        "BANK_COUNTER",
      );
      // The bank's part answers; the card's part (served by the stopped subgraph) says why not,
      // and the answer names the effects still on their way (contract v2).
      expect(activated.data!.activateFinancialFunction.bankAccount.status).toBe("ACTIVE");
      expect(activated.errors?.map((e) => [e.path?.join("."), e.extensions?.["code"]])).toEqual([
        ["activateFinancialFunction.card", "SERVICE_UNAVAILABLE"],
      ]);
      const pending = activated.extensions?.["pendingEffects"] as {
        type: string;
        destination: string;
      }[];
      expect(pending.map((e) => `${e.type} → ${e.destination}`).sort()).toEqual([
        "BankAccountStatusChanged → cards",
        "FinancialFunctionActivated → cards",
      ]);
      // The operator sees the queue waiting (the relay's retries are what is waited for here).
      await eventually(async () => {
        const stats = await outboxStats();
        expect(stats.pending).toBeGreaterThan(0);
        expect(stats.failedAttempts).toBeGreaterThan(0);
        expect(stats.oldestPendingMs).toBeGreaterThan(0);
      });
      // When cards is back, its first application of the enabling stops right after the card's
      // write committed, before it answers the relay (as a crash there would): the relay never
      // heard it was applied, so it delivers the same event again. The card must record it once.
      stopCrashing = injectFault("after-carrying-write", (detail) => {
        if (detail["collection"] !== "cards" || crashes > 0) return;
        crashes += 1;
        throw new InjectedCrash("after-carrying-write");
      });
    } finally {
      await hub().startSubgraph("cards");
    }
    try {
      // A subgraph that was down is the one case where effects arrive later: waited for here.
      await eventually(async () => {
        expect(crashes).toBe(1);
        const stats = await outboxStats();
        // Every event acknowledged (the crashed one only by its redelivery), none set aside.
        expect(stats.pending).toBe(0);
        expect(stats.deadLetters).toBe(0);
      }, 30_000);
    } finally {
      stopCrashing();
    }
    const enabling = releasedEvent(
      "FinancialFunctionActivated",
      "cards",
      (p) => p["cardId"] === cardId,
    );
    // The relay heard the crash as this event's failure (it notes it on the event before trying
    // again); the event then left the outbox, so a later delivery was applied.
    const noted = hub().commands.filter(
      (c) =>
        c.commandName === "update" &&
        c.databaseName === subgraphDatabaseName(hub().dbPrefix, "bank-accounts") &&
        c.command["update"] === "outbox" &&
        JSON.stringify(c.command["updates"]).includes(enabling._id) &&
        JSON.stringify(c.command["updates"]).includes("injected crash"),
    );
    expect(noted).toHaveLength(1);
    const view = await cardView(hub().gateway.url, cardId);
    expect(view.status).toBe("NORMAL");
    expect(view.history.filter((e) => e.type === "SOCIAL_FUNCTION_ENABLED")).toHaveLength(1);
    expect(
      (await storedCard(cardId)).keys?.filter((k) => k.id === `event:${enabling.eventId}`),
    ).toHaveLength(1);
  });

  it("redelivered events older than what a receiver has seen since change nothing: the bank account, its mirror in cards and the card keep their state and history", async () => {
    const cardId = await cardWithAccount();
    expectNoPendingEffects(
      await run(
        hub().gateway.url,
        "ActivateFinancialFunction",
        { cardId, idempotencyKey: "rd-1" },
        "BANK_COUNTER",
      ),
    );
    // Formal loss of an activated card: the account goes under loss report (R-BANK-3)...
    const lost = await run(
      hub().gateway.url,
      "ReportCardLoss",
      { cardId, temporary: false, idempotencyKey: "rd-lost" },
      "BANK_COUNTER",
    );
    expectNoPendingEffects(lost);
    expect(await bankStatus(hub().gateway.url, cardId)).toBe("LOSS_REPORTED");
    expect((await storedCard(cardId)).bankAccountStatus).toBe("LOSS_REPORTED");
    // ...and back to ACTIVE once the report is withdrawn.
    expectNoPendingEffects(await run(hub().gateway.url, "WithdrawLossReport", { cardId }));
    expect(await bankStatus(hub().gateway.url, cardId)).toBe("ACTIVE");

    // The events of the loss report as they were delivered: each would undo the withdrawal if
    // applied again (the account and the mirror back to LOSS_REPORTED, the passwords subgraph's
    // card status back to LOST), and the activation's enabling of the card.
    const cardLost = releasedEvent(
      "CardStatusChanged",
      "bank-accounts",
      (p) => p["cardId"] === cardId && p["status"] === "LOST",
    );
    const cardLostToPasswords = releasedEvent(
      "CardStatusChanged",
      "passwords",
      (p) => p["cardId"] === cardId && p["status"] === "LOST",
    );
    const accountLost = releasedEvent(
      "BankAccountStatusChanged",
      "cards",
      (p) => p["cardId"] === cardId && p["status"] === "LOSS_REPORTED",
    );
    const enabling = releasedEvent(
      "FinancialFunctionActivated",
      "cards",
      (p) => p["cardId"] === cardId,
    );
    // The loss report's own key record names the event it released (it was that request's).
    const lossRecord = (await storedCard(cardId)).keys?.find(
      (k) => k.id === keyRecordId("BANK_COUNTER", "reportCardLoss", "rd-lost"),
    );
    expect(lossRecord?.events).toContain(cardLost._id);

    const account = await storedAccount(cardId);
    const card = await storedCard(cardId);
    const view = await cardView(hub().gateway.url, cardId);
    const knownCards = passwordsDb().collection<{ _id: string; status?: string }>("known_cards");
    const passwordsKnow = await knownCards.findOne({ _id: cardId });
    expect(account).toMatchObject({ status: "ACTIVE", card: { status: "NORMAL" } });
    expect(card.bankAccountStatus).toBe("ACTIVE");
    expect(passwordsKnow?.status).toBe("NORMAL");

    // Delivered again, twice, through the real endpoints with the relays' service tokens.
    for (let i = 0; i < 2; i++) {
      await deliverApplied("bank-accounts", "cards", [onTheWire(cardLost)]);
      await deliverApplied("passwords", "cards", [onTheWire(cardLostToPasswords)]);
      await deliverApplied("cards", "bank-accounts", [onTheWire(accountLost), onTheWire(enabling)]);
    }

    expect(await storedAccount(cardId)).toEqual(account);
    expect(await bankStatus(hub().gateway.url, cardId)).toBe("ACTIVE");
    const cardAfter = await storedCard(cardId);
    expect(cardAfter).toEqual(card);
    expect(cardAfter.bankAccountStatus).toBe("ACTIVE");
    const viewAfter = await cardView(hub().gateway.url, cardId);
    expect(viewAfter).toEqual(view);
    expect(viewAfter.history).toHaveLength(view.history.length);
    expect(await knownCards.findOne({ _id: cardId })).toEqual(passwordsKnow);
  });

  it("SECURITY.md: an event id already applied to an account is not applied again, even when its payload would now change the account", async () => {
    const cardId = await cardWithAccount();
    expectNoPendingEffects(
      await run(
        hub().gateway.url,
        "ActivateFinancialFunction",
        { cardId, idempotencyKey: "id-1" },
        "BANK_COUNTER",
      ),
    );
    expectNoPendingEffects(
      await run(hub().gateway.url, "ReportCardLoss", { cardId, temporary: true }),
    );
    const applied = releasedEvent(
      "CardStatusChanged",
      "bank-accounts",
      (p) => p["cardId"] === cardId && p["status"] === "TEMPORARY_LOSS",
    );
    const account = await storedAccount(cardId);
    expect(account.status).toBe("ACTIVE");
    // A real redelivery carries the same payload, which the card-version guard alone would stop
    // too; only a payload that would change the account shows whether the id itself is
    // recorded ("applied once per event id"): here a newer card version, formally lost.
    const sameIdNewerState = onTheWire({
      ...applied,
      payload: {
        ...applied.payload,
        status: "LOST",
        change: "LOSS_REPORTED_FORMAL",
        fromStatus: "TEMPORARY_LOSS",
        cardVersion: (applied.payload["cardVersion"] as number) + 1,
      },
    });
    await deliverApplied("bank-accounts", "cards", [sameIdNewerState]);
    expect(await storedAccount(cardId)).toEqual(account);
    expect(await bankStatus(hub().gateway.url, cardId)).toBe("ACTIVE");
    // What stopped it: the record of the id in the account it changed.
    expect(account.keys?.map((k) => k.id)).toContain(`event:${applied.eventId}`);
  });

  it("the /events endpoint accepts only the relay's service token", async () => {
    const events = hub()
      .subgraphs.get("cards")!
      .url.replace(/graphql$/, "events");
    const body = JSON.stringify({
      events: [
        {
          id: "forged",
          type: "FinancialFunctionActivated",
          payload: { cardId: "c_x", agent: null, accountVersion: 2 },
          actor: "x",
          channel: "BANK_COUNTER",
          occurredAt: new Date().toISOString(),
          source: "x",
        },
      ],
    });
    expect(
      (
        await fetch(events, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        })
      ).status,
    ).toBe(401);
    const { token } = await import("./support/hub.js");
    const operator = await token();
    expect(
      (
        await fetch(events, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${operator}` },
          body,
        })
      ).status,
    ).toBe(403);
  });
});
