import { SignJWT } from "jose";
import { subgraphDatabaseName } from "@hub/kit";
import type { CommandStartedEvent } from "mongodb";
import { beforeAll, describe, expect, it } from "vitest";
import {
  cardView,
  codeOf,
  freshIdNumber,
  personWithCard,
  personWithElectronicPassword,
  run,
} from "./support/cards.js";
import { contractOperation, graphql, useTestHub, TEST_SECRET, token } from "./support/hub.js";

/** Write rules a channel can rely on (contract v2 "Channels" and "Writes"), through the gateway. */
const hub = useTestHub({ seed: false });

const activate = (cardId: string, key: string, extra: Record<string, unknown> = {}) =>
  run(
    hub().gateway.url,
    "ActivateFinancialFunction",
    { cardId, idempotencyKey: key, ...extra },
    "BANK_COUNTER",
  );

describe("R-BANK-1/2/3: the financial function only for a card in use", () => {
  it("refuses a card reported lost (temporarily or formally), cancelled or replaced, naming its state; the card is untouched", async () => {
    const cases: { status: string; prepare: (cardId: string) => Promise<unknown> }[] = [
      {
        status: "TEMPORARY_LOSS",
        prepare: (cardId) => run(hub().gateway.url, "ReportCardLoss", { cardId, temporary: true }),
      },
      {
        status: "LOST",
        prepare: (cardId) => run(hub().gateway.url, "ReportCardLoss", { cardId, temporary: false }),
      },
      {
        status: "CANCELLED",
        prepare: (cardId) =>
          run(hub().gateway.url, "CancelCard", {
            cardId,
            reason: "holder request",
            idempotencyKey: `c-${cardId}`,
          }),
      },
      {
        status: "CANCELLED",
        prepare: (cardId) =>
          run(hub().gateway.url, "ReplaceCard", {
            cardId,
            reason: "CRACKED",
            idempotencyKey: `r-${cardId}`,
          }),
      },
    ];
    for (const [i, { status, prepare }] of cases.entries()) {
      const { cardId } = await personWithCard(hub().gateway.url);
      await prepare(cardId);
      const refused = await activate(cardId, `lost-${i}`);
      expect(codeOf(refused), status).toBe("INVALID_TRANSITION");
      expect(refused.errors![0]!.message).toContain(`The card is ${status}`);
      expect(refused.errors![0]!.extensions!["cardStatus"]).toBe(status);
    }
    // After a withdrawn temporary loss report the card is as it was: ARCHIVED, never enabled.
    const { cardId } = await personWithCard(hub().gateway.url);
    await run(hub().gateway.url, "ReportCardLoss", { cardId, temporary: true });
    expect(codeOf(await activate(cardId, "withdrawn-1"))).toBe("INVALID_TRANSITION");
    await run(hub().gateway.url, "WithdrawLossReport", { cardId });
    expect((await cardView(hub().gateway.url, cardId)).status).toBe("ARCHIVED");
    // And once it is back in use, the activation goes through.
    expect((await activate(cardId, "withdrawn-2")).errors).toBeUndefined();
    expect((await cardView(hub().gateway.url, cardId)).status).toBe("NORMAL");
  });

  it("refuses an expired card", async () => {
    const idNumber = freshIdNumber();
    const registered = await run<{ registerPerson: { person: { id: string } } }>(
      hub().gateway.url,
      "RegisterPerson",
      { idNumber, name: "老卡" },
    );
    const issued = await run<{ issueCard: { card: { id: string; status: string } } }>(
      hub().gateway.url,
      "IssueCard",
      {
        personId: registered.data!.registerPerson.person.id,
        province: "31",
        issuingBank: "交通银行",
        issuedAt: "2012-03-01T00:00:00Z",
      },
    );
    expect(issued.data!.issueCard.card.status).toBe("EXPIRED");
    const refused = await activate(issued.data!.issueCard.card.id, "expired-1");
    expect(codeOf(refused)).toBe("INVALID_TRANSITION");
    expect(refused.errors![0]!.message).toContain("The card is EXPIRED");
  });
});

describe("R-ID-2: an agent is recorded on the event the mutation causes", () => {
  it("activateFinancialFunction at DOOR_TO_DOOR with an agent: the card's SOCIAL_FUNCTION_ENABLED names the agent", async () => {
    const { cardId } = await personWithCard(hub().gateway.url);
    const agent = { idNumber: "11010519491231002X", name: "家属", powerOfAttorneyRef: "POA-9" };
    const activated = await run(
      hub().gateway.url,
      "ActivateFinancialFunction",
      { cardId, idempotencyKey: "agent-1", agent },
      "DOOR_TO_DOOR",
    );
    expect(activated.errors).toBeUndefined();
    const enabled = (await cardView(hub().gateway.url, cardId)).history.find(
      (e) => e.type === "SOCIAL_FUNCTION_ENABLED",
    );
    expect(enabled).toMatchObject({ channel: "DOOR_TO_DOOR", agentIdNumber: agent.idNumber });
  });
});

describe("idempotency (CONTRACT.md Writes)", () => {
  it("a replay returns the first answer as it was, not the card's state now", async () => {
    const { cardId } = await personWithCard(hub().gateway.url);
    const input = { cardId, temporary: true, idempotencyKey: "as-it-was" };
    const first = await run<{ reportCardLoss: { card: { status: string } } }>(
      hub().gateway.url,
      "ReportCardLoss",
      input,
    );
    expect(first.data!.reportCardLoss.card.status).toBe("TEMPORARY_LOSS");
    await run(hub().gateway.url, "WithdrawLossReport", { cardId });
    const replay = await run<{ reportCardLoss: { card: { status: string } } }>(
      hub().gateway.url,
      "ReportCardLoss",
      input,
    );
    expect(replay.errors).toBeUndefined();
    expect(replay.data!.reportCardLoss.card.status).toBe("TEMPORARY_LOSS");
    expect((await cardView(hub().gateway.url, cardId)).status).toBe("ARCHIVED");
  });

  it("keys are at most 128 characters, and scoped to the channel and the operation", async () => {
    const { cardId } = await personWithCard(hub().gateway.url);
    const tooLong = await run(hub().gateway.url, "CollectCard", {
      cardId,
      idempotencyKey: "k".repeat(129),
    });
    expect(codeOf(tooLong)).toBe("BAD_USER_INPUT");
    const huge = await run(hub().gateway.url, "CollectCard", {
      cardId,
      idempotencyKey: "k".repeat(90_000),
    });
    expect(codeOf(huge)).toMatch(/BAD_USER_INPUT|QUERY_TOO_COMPLEX/);
    expect(
      (await run(hub().gateway.url, "CollectCard", { cardId, idempotencyKey: "k".repeat(128) }))
        .errors,
    ).toBeUndefined();
    // The same key for another operation is another request, not a conflict.
    const enabled = await run(hub().gateway.url, "EnableSocialSecurityFunction", {
      cardId,
      idempotencyKey: "k".repeat(128),
    });
    expect(enabled.errors).toBeUndefined();
  });

  it("issueCard: the same key with the same input answers the same card; with other input it is a CONFLICT and issues nothing", async () => {
    const registered = await run<{ registerPerson: { person: { id: string } } }>(
      hub().gateway.url,
      "RegisterPerson",
      { idNumber: freshIdNumber(), name: "一次" },
    );
    const personId = registered.data!.registerPerson.person.id;
    const input = { personId, province: "44", issuingBank: "中国工商银行", idempotencyKey: "i-1" };
    const first = await run<{ issueCard: { card: { id: string } } }>(
      hub().gateway.url,
      "IssueCard",
      input,
    );
    expect(first.errors).toBeUndefined();
    const replay = await run(hub().gateway.url, "IssueCard", input);
    expect(replay.errors).toBeUndefined();
    expect(replay.data).toEqual(first.data);
    // Without the key, another province would be another card (R-DUP-1 allows it): the CONFLICT
    // is the key's.
    const other = await run(hub().gateway.url, "IssueCard", { ...input, province: "11" });
    expect(codeOf(other)).toBe("CONFLICT");
    expect(other.errors![0]!.message).toMatch(/idempotency key/i);
    const cards = await graphql<{ person: { cards: { id: string }[] } }>(
      hub().gateway.url,
      await contractOperation("PersonById"),
      { id: personId },
      await token(),
    );
    expect(cards.data!.person.cards).toEqual([
      expect.objectContaining({ id: first.data!.issueCard.card.id }),
    ]);
  });

  it("a card keeps the records of its newest 32 keyed changes: after 33, the first key is no longer recognised, the second still is", async () => {
    // DOCUMENT_KEYS_KEPT in kit/src/mongo/document-keys.ts: the records live inside the card.
    const kept = 32;
    const { cardId } = await personWithCard(hub().gateway.url);
    // Keyed changes that each change the card (only a change is recorded): temporary loss
    // reports and withdrawals in turn, the first and the last a report.
    for (let i = 1; i <= kept + 1; i++) {
      const answer =
        i % 2 === 1
          ? await run(hub().gateway.url, "ReportCardLoss", {
              cardId,
              temporary: true,
              idempotencyKey: `ev-${i}`,
            })
          : await run(hub().gateway.url, "WithdrawLossReport", {
              cardId,
              idempotencyKey: `ev-${i}`,
            });
      expect(answer.errors, `change ${i}`).toBeUndefined();
    }
    const before = await cardView(hub().gateway.url, cardId);
    expect(before.status).toBe("TEMPORARY_LOSS");
    // The second key is among the newest 32: its first answer (ARCHIVED), nothing changes.
    const second = await run<{ withdrawLossReport: { card: { status: string } } }>(
      hub().gateway.url,
      "WithdrawLossReport",
      { cardId, idempotencyKey: "ev-2" },
    );
    expect(second.errors).toBeUndefined();
    expect(second.data!.withdrawLossReport.card.status).toBe("ARCHIVED");
    expect(await cardView(hub().gateway.url, cardId)).toEqual(before);
    // The first is not: it runs as a new request, which the card's state refuses (recognised, it
    // would answer its first answer, TEMPORARY_LOSS, without an error).
    const first = await run(hub().gateway.url, "ReportCardLoss", {
      cardId,
      temporary: true,
      idempotencyKey: "ev-1",
    });
    expect(codeOf(first)).toBe("INVALID_TRANSITION");
    expect(await cardView(hub().gateway.url, cardId)).toEqual(before);
  });
});

describe("order of checks (CONTRACT.md Channels)", () => {
  it("a channel outside its row gets CHANNEL_NOT_ALLOWED whatever the card's state, even for no card at all", async () => {
    const { cardId } = await personWithCard(hub().gateway.url);
    await run(hub().gateway.url, "CancelCard", {
      cardId,
      reason: "holder request",
      idempotencyKey: "order-1",
    });
    const formal = await run(
      hub().gateway.url,
      "ReportCardLoss",
      { cardId, temporary: false },
      "PHONE_12333",
    );
    expect(codeOf(formal)).toBe("CHANNEL_NOT_ALLOWED");
    const instant = await run(
      hub().gateway.url,
      "ReplaceCard",
      { cardId: "c_does_not_exist", reason: "CRACKED", instant: true, idempotencyKey: "order-2" },
      "APP",
    );
    expect(codeOf(instant)).toBe("CHANNEL_NOT_ALLOWED");
    // Input before state: a bad date on a cancelled card is the input's fault.
    const collected = await run(hub().gateway.url, "CollectCard", {
      cardId,
      collectedAt: "1998-12-31T00:00:00Z",
    });
    expect(codeOf(collected)).toBe("BAD_USER_INPUT");
  });
});

describe("R-DUP-1: one card per person and province", () => {
  it("a second card in a province where the person still holds one is a CONFLICT naming it and pointing to replaceCard", async () => {
    const { personId, cardId, idNumber } = await personWithCard(hub().gateway.url, {
      province: "44",
    });
    const second = await run(hub().gateway.url, "IssueCard", {
      personId,
      province: "44",
      issuingBank: "招商银行",
    });
    expect(codeOf(second)).toBe("CONFLICT");
    expect(second.errors![0]!.message).toContain(cardId);
    expect(second.errors![0]!.message).toContain("replaceCard");
    expect(second.errors![0]!.extensions).toMatchObject({ cardId, remedy: "replaceCard" });
    // Another province is another card.
    const elsewhere = await run(hub().gateway.url, "IssueCard", {
      personId,
      province: "11",
      issuingBank: "中国银行",
    });
    expect(elsewhere.errors).toBeUndefined();
    // A replaced card and its replacement are a duplicate pair only while the old card's bank
    // account is still open: then the advice is to cancel it at the bank; after that, no pair.
    await run(hub().gateway.url, "ReplaceCard", {
      cardId,
      reason: "CRACKED",
      idempotencyKey: "dup-r",
    });
    const duplicates = async () =>
      (
        await graphql<{
          personByIdNumber: { duplicates: { actions: { cardId: string; action: string }[] }[] };
        }>(hub().gateway.url, await contractOperation("PersonCards"), { idNumber }, await token())
      ).data!.personByIdNumber.duplicates;
    expect((await duplicates())[0]!.actions).toContainEqual({
      cardId,
      action: "CANCEL_BANK_ACCOUNT_AT_COUNTER",
      reason: expect.any(String),
    });
    await run(
      hub().gateway.url,
      "CancelBankAccount",
      { cardId, idempotencyKey: "dup-b" },
      "BANK_COUNTER",
    );
    expect(await duplicates()).toEqual([]);
  });

  it("after a cancellation a new card may be issued in that province", async () => {
    const { personId, cardId } = await personWithCard(hub().gateway.url, { province: "32" });
    await run(hub().gateway.url, "CancelCard", {
      cardId,
      reason: "holder request",
      idempotencyKey: "dup-c",
    });
    const again = await run(hub().gateway.url, "IssueCard", {
      personId,
      province: "32",
      issuingBank: "中国农业银行",
    });
    expect(again.errors).toBeUndefined();
  });
});

describe("R-PWD-4: a locked electronic-card password locks every electronic-card service", () => {
  it("issuing an electronic card is refused with PASSWORD_LOCKED and lockedUntil", async () => {
    const { personId, cardId } = await personWithElectronicPassword(hub().gateway.url);
    for (let i = 0; i < 7; i++)
      await run(
        hub().gateway.url,
        "VerifyElectronicCardPassword",
        { personId, password: "000000" },
        "APP",
      );
    const refused = await run(
      hub().gateway.url,
      "IssueElectronicCard",
      { cardId, faceMatched: true },
      "WECHAT",
    );
    expect(codeOf(refused)).toBe("PASSWORD_LOCKED");
    expect(Date.parse(String(refused.errors![0]!.extensions!["lockedUntil"]))).toBeGreaterThan(
      Date.now(),
    );
    expect((await cardView(hub().gateway.url, cardId)).status).toBe("ARCHIVED");
  });
});

describe("input bounds", () => {
  it("issuedAt and collectedAt lie neither in the future nor before 1999", async () => {
    const { personId, cardId } = await personWithCard(hub().gateway.url, { province: "50" });
    for (const issuedAt of ["2999-01-01T00:00:00Z", "1998-06-30T00:00:00Z"]) {
      const refused = await run(hub().gateway.url, "IssueCard", {
        personId,
        province: "51",
        issuingBank: "中国银行",
        issuedAt,
      });
      expect(codeOf(refused), issuedAt).toBe("BAD_USER_INPUT");
    }
    const future = await run(hub().gateway.url, "CollectCard", {
      cardId,
      collectedAt: "2999-01-01T00:00:00Z",
    });
    expect(codeOf(future)).toBe("BAD_USER_INPUT");
  });

  it("names need a visible character and no control or text-direction characters", async () => {
    for (const name of ["\u200B", "王\u202E芳", "王\u0007芳"]) {
      const refused = await run(hub().gateway.url, "RegisterPerson", {
        idNumber: freshIdNumber(),
        name,
      });
      expect(codeOf(refused), JSON.stringify(name)).toBe("BAD_USER_INPUT");
    }
  });

  it("production mode: a token without exp, or valid for longer than 12 hours, is UNAUTHENTICATED", async () => {
    const key = new TextEncoder().encode(TEST_SECRET);
    const unsigned = new SignJWT({ channel: "COUNTER", scope: "cards:read" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("op")
      .setIssuedAt();
    const forever = await unsigned.sign(key);
    const week = await new SignJWT({ channel: "COUNTER", scope: "cards:read" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("op")
      .setIssuedAt()
      .setExpirationTime("7d")
      .sign(key);
    for (const bad of [forever, week]) {
      const refused = await graphql(hub().gateway.url, "{ __typename }", {}, bad);
      expect(refused.status).toBe(401);
      expect(codeOf(refused)).toBe("UNAUTHENTICATED");
    }
    const shift = await token({ expiresIn: "12h" });
    expect((await graphql(hub().gateway.url, "{ __typename }", {}, shift)).errors).toBeUndefined();
  });
});

describe("collections exist before any transaction writes to them (replica-set and sharding safe)", () => {
  const WRITES = ["insert", "update", "delete", "findAndModify"];
  const collectionOf = (c: CommandStartedEvent) =>
    `${c.databaseName}.${String(c.command[c.commandName])}`;
  /** Every collection created with its indexes at start-up (before any test ran). */
  let createdAtStart: Set<string>;
  beforeAll(() => {
    createdAtStart = new Set(
      hub()
        .commands.filter((c) => c.commandName === "createIndexes")
        .map(collectionOf),
    );
  });
  const writtenSince = (from: number) =>
    hub()
      .commands.slice(from)
      .filter((c) => WRITES.includes(c.commandName));
  const inTransaction = (c: CommandStartedEvent) => c.command["autocommit"] === false;
  const notCreated = (written: CommandStartedEvent[]) =>
    [...new Set(written.map(collectionOf))].filter((name) => !createdAtStart.has(name));

  it("every collection a mutation writes (in a transaction or not) was created with its indexes at start-up", async () => {
    const from = hub().commands.length;
    const { personId, cardId } = await personWithCard(hub().gateway.url);
    await activate(cardId, "collections-1");
    await run(hub().gateway.url, "ChangeCardPassword", {
      cardId,
      currentPassword: "123456",
      newPassword: "802615",
    });
    // A transaction with its idempotency record in the passwords database.
    const reset = await run(hub().gateway.url, "ResetCardPassword", {
      cardId,
      idempotencyKey: "col-reset",
    });
    expect(reset.errors).toBeUndefined();
    await run(
      hub().gateway.url,
      "SetElectronicCardPassword",
      { personId, newPassword: "394857" },
      "APP",
    );
    await run(hub().gateway.url, "CancelCard", {
      cardId,
      reason: "holder request",
      idempotencyKey: "col-1",
    });
    const written = writtenSince(from);
    expect(new Set(written.map(collectionOf)).size).toBeGreaterThan(5);
    const passwords = subgraphDatabaseName(hub().dbPrefix, "passwords");
    expect(written.filter(inTransaction).map(collectionOf)).toContain(
      `${passwords}.idempotency_keys`,
    );
    expect(notCreated(written)).toEqual([]);
  });

  it("a full card history moves to card_history_buckets, outside a transaction and inside replaceCard's; those collections were created at start-up", async () => {
    // kit: a card keeps 64 history entries; the 65th moves the oldest 32 to a bucket.
    const HISTORY_KEPT = 64;
    const from = hub().commands.length;
    const { cardId } = await personWithCard(hub().gateway.url);
    let entries = 1; // ISSUED
    const change = async (): Promise<void> => {
      const answer =
        entries % 2 === 1
          ? await run(hub().gateway.url, "ReportCardLoss", { cardId, temporary: true })
          : await run(hub().gateway.url, "WithdrawLossReport", { cardId });
      expect(answer.errors, `entry ${entries + 1}`).toBeUndefined();
      entries += 1;
    };
    // The 65th entry: a single-card change moves the first bucket out (no transaction).
    while (entries <= HISTORY_KEPT) await change();
    // 33 entries left in the card: fill it to 64 again, and let the replacement add the 65th, so
    // its transaction (two cards, the new card's number, its idempotency record) writes a bucket.
    while (entries < 2 * HISTORY_KEPT - 32) await change();
    const replaced = await run<{ replaceCard: { newCard: { id: string } } }>(
      hub().gateway.url,
      "ReplaceCard",
      {
        cardId,
        reason: "LOST",
        idempotencyKey: "col-replace",
      },
    );
    expect(replaced.errors).toBeUndefined();
    const history = (await cardView(hub().gateway.url, cardId)).history;
    expect(history).toHaveLength(entries + 1);
    expect(history.at(-1)!.type).toBe("REPLACED");

    const cards = subgraphDatabaseName(hub().dbPrefix, "cards");
    const written = writtenSince(from);
    const buckets = written.filter((c) => collectionOf(c) === `${cards}.card_history_buckets`);
    expect(buckets.filter((c) => !inTransaction(c))).toHaveLength(1);
    expect(buckets.filter(inTransaction)).toHaveLength(1);
    expect(written.filter(inTransaction).map(collectionOf)).toEqual(
      expect.arrayContaining([
        `${cards}.cards`,
        `${cards}.card_numbers`,
        `${cards}.idempotency_keys`,
        `${cards}.card_history_buckets`,
      ]),
    );
    expect(notCreated(written)).toEqual([]);
  }, 180_000);
});
