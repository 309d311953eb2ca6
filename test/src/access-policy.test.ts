import { CHANNELS, subgraphDatabaseName, type Channel } from "@hub/kit";
import { splitOperations } from "@hub/gateway/contract-operations";
import { SCHEMA_DIR } from "@hub/schema";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cardView, codeOf, freshIdNumber, personWithCard, run } from "./support/cards.js";
import { contractText, parseChannelTable } from "./support/contract-table.js";
import { eventually } from "./support/eventually.js";
import {
  contractOperation,
  graphql,
  useTestHub,
  token,
  type GraphQLResponse,
} from "./support/hub.js";

const hub = useTestHub({ seed: false });

/** A person with one card, as `personWithCard` leaves them. */
interface Subject {
  personId: string;
  cardId: string;
  idNumber: string;
}

/**
 * Runs a contract mutation that must succeed (the state a policy case starts from). Retried for a
 * while when it answers an error: under load the set-up's own effects (the passwords subgraph
 * learning of a new person) may still be pending when the set-up answers (seen once as NOT_FOUND),
 * and this test is about channels, not about effects.
 */
async function must(
  operation: string,
  input: Record<string, unknown>,
  channel: Channel = "COUNTER",
): Promise<void> {
  await eventually(async () => {
    const answer = await run(hub().gateway.url, operation, input, channel);
    expect(answer.errors, `${operation}: ${String(codeOf(answer))}`).toBeUndefined();
  });
}

interface PolicyCase {
  /** The contract document (operations.graphql) that runs the operation. */
  document: string;
  /**
   * Puts the subject in a state where the operation, were the channel allowed, would change
   * something: a refused call that changes nothing then proves the refusal, not a no-op.
   */
  prepare?: (subject: Subject) => Promise<void>;
  /** The input for one call; idempotency keys differ per call so no replay hides a write. */
  input: (subject: Subject, channel: Channel) => Record<string, unknown>;
}

const key = (subject: Subject, channel: Channel, what: string) =>
  `${what}-${subject.cardId}-${channel}`;

/**
 * One case per row key of the contract's channel table (CONTRACT.md, parsed by
 * support/contract-table.ts). The expectations (which channels are allowed) come from the
 * contract's text only; this table says how to exercise each row.
 */
const CASES: Record<string, PolicyCase> = {
  registerPerson: {
    document: "RegisterPerson",
    input: () => ({ idNumber: freshIdNumber(), name: "渠道测试", phone: "13812345678" }),
  },
  issueCard: {
    document: "IssueCard",
    input: ({ personId }) => ({ personId, province: "11", issuingBank: "中国银行" }),
  },
  collectCard: { document: "CollectCard", input: ({ cardId }) => ({ cardId }) },
  enableSocialSecurityFunction: {
    document: "EnableSocialSecurityFunction",
    input: ({ cardId }) => ({ cardId }),
  },
  "reportCardLoss (temporary)": {
    document: "ReportCardLoss",
    input: ({ cardId }) => ({ cardId, temporary: true }),
  },
  "reportCardLoss (formal)": {
    document: "ReportCardLoss",
    input: ({ cardId }) => ({ cardId, temporary: false }),
  },
  withdrawLossReport: {
    document: "WithdrawLossReport",
    prepare: ({ cardId }) => must("ReportCardLoss", { cardId, temporary: true }),
    input: ({ cardId }) => ({ cardId }),
  },
  cancelCard: {
    document: "CancelCard",
    input: (s, channel) => ({
      cardId: s.cardId,
      reason: "policy",
      idempotencyKey: key(s, channel, "cancel"),
    }),
  },
  replaceCard: {
    document: "ReplaceCard",
    input: (s, channel) => ({
      cardId: s.cardId,
      reason: "LOST",
      idempotencyKey: key(s, channel, "replace"),
    }),
  },
  "replaceCard (instant)": {
    document: "ReplaceCard",
    input: (s, channel) => ({
      cardId: s.cardId,
      reason: "LOST",
      instant: true,
      idempotencyKey: key(s, channel, "instant"),
    }),
  },
  issueElectronicCard: {
    document: "IssueElectronicCard",
    input: ({ cardId }) => ({ cardId, faceMatched: true }),
  },
  setElectronicCardPassword: {
    document: "SetElectronicCardPassword",
    input: ({ personId }) => ({ personId, newPassword: "394857" }),
  },
  verifyElectronicCardPassword: {
    document: "VerifyElectronicCardPassword",
    prepare: ({ personId }) =>
      must("SetElectronicCardPassword", { personId, newPassword: "394857" }, "APP"),
    // A wrong entry: allowed, it would count a failure.
    input: ({ personId }) => ({ personId, password: "000002" }),
  },
  verifyCardPassword: {
    document: "VerifyCardPassword",
    input: ({ cardId }) => ({ cardId, password: "246810" }),
  },
  changeCardPassword: {
    document: "ChangeCardPassword",
    input: ({ cardId }) => ({ cardId, currentPassword: "123456", newPassword: "802615" }),
  },
  resetCardPassword: {
    document: "ResetCardPassword",
    // A changed password with a wrong entry counted: a reset would restore INITIAL and clear it.
    prepare: async ({ cardId }) => {
      await must("ChangeCardPassword", {
        cardId,
        currentPassword: "123456",
        newPassword: "802615",
      });
      await must("VerifyCardPassword", { cardId, password: "246810" });
    },
    input: (s, channel) => ({ cardId: s.cardId, idempotencyKey: key(s, channel, "reset") }),
  },
  activateFinancialFunction: {
    document: "ActivateFinancialFunction",
    input: (s, channel) => ({ cardId: s.cardId, idempotencyKey: key(s, channel, "activate") }),
  },
  cancelBankAccount: {
    document: "CancelBankAccount",
    input: (s, channel) => ({ cardId: s.cardId, idempotencyKey: key(s, channel, "bank") }),
  },
};

/** Variables for each contract query, about a given subject. */
function queryVariables(name: string, subject: Subject): Record<string, unknown> {
  switch (name) {
    case "PersonCards":
      return { idNumber: subject.idNumber };
    case "PersonById":
      return { id: subject.personId };
    case "PersonsByIds":
      return { ids: [subject.personId] };
    case "CardHistory":
      return { cardId: subject.cardId };
    default:
      throw new Error(`no variables for the contract query ${name}: add them here`);
  }
}

/**
 * Every document of every subgraph's database. Waits first until every outbox is empty, so no
 * event of the set-up is still on its way (a mutation's answer waits for its effects, but the
 * relay's bookkeeping may lag). The embedded server cannot list collections: the ones read are
 * those any command of the hub has named so far (its only client reports every command), and a
 * collection first named later was empty before. Left out is the relay's bookkeeping, which
 * changes in the background after a write has answered and says nothing about cards or people:
 * its lane records, and the fields where a write parks its events or its claim on a card number
 * until the relay's sweep releases or clears them (`outgoing`, `outgoingSince`, `issuing`).
 */
async function databaseState(): Promise<Map<string, unknown[]>> {
  const subgraphs = ["persons", "cards", "passwords", "bank-accounts"];
  const dbs = subgraphs.map((name) => hub().client.db(subgraphDatabaseName(hub().dbPrefix, name)));
  await eventually(async () => {
    for (const db of dbs) expect(await db.collection("outbox").countDocuments()).toBe(0);
  }, 20_000);
  const names = new Set<string>();
  for (const event of hub().commands) {
    const target = event.command[event.commandName];
    if (typeof target === "string" && dbs.some((db) => db.databaseName === event.databaseName))
      names.add(`${event.databaseName}.${target}`);
  }
  const state = new Map<string, unknown[]>();
  for (const name of [...names].sort()) {
    const [database, collection] = name.split(/\.(.*)/s) as [string, string];
    if (RELAY_BOOKKEEPING.has(collection)) continue;
    const docs = await hub()
      .client.db(database)
      .collection(collection)
      .find()
      .sort({ _id: 1 })
      .toArray();
    state.set(
      name,
      docs.map((doc) =>
        Object.fromEntries(Object.entries(doc).filter(([field]) => !PARKED_FIELDS.has(field))),
      ),
    );
  }
  return state;
}
const RELAY_BOOKKEEPING = new Set(["outbox_lanes"]);
const PARKED_FIELDS = new Set(["outgoing", "outgoingSince", "issuing"]);

/** `after` against `before`, a collection unknown before counting as empty then. */
function withEmptyCollections(
  before: Map<string, unknown[]>,
  after: Map<string, unknown[]>,
): Map<string, unknown[]> {
  return new Map([...after.keys()].map((name) => [name, before.get(name) ?? []]));
}

/** An answer's first error code, or OK. */
function describeAnswer(answer: GraphQLResponse<unknown>): string {
  return answer.errors ? String(codeOf(answer)) : "OK";
}

/** What the contract shows of a subject: the person's cards, passwords, bank account, history. */
async function visibleState(subject: Subject): Promise<unknown> {
  const bearer = await token();
  const person = await graphql(
    hub().gateway.url,
    await contractOperation("PersonCards"),
    { idNumber: subject.idNumber },
    bearer,
  );
  expect(person.errors).toBeUndefined();
  return { person: person.data, history: await cardView(hub().gateway.url, subject.cardId) };
}

describe("channel policy: CONTRACT.md's table, every operation × every channel", () => {
  const table = parseChannelTable(contractText());

  it("the contract's channels are the hub's, and every row of its table has a case here", () => {
    expect(table.channels).toHaveLength(13);
    expect([...table.channels].sort()).toEqual([...CHANNELS].sort());
    expect([...table.allowed.keys()].filter((k) => k !== "every query").sort()).toEqual(
      Object.keys(CASES).sort(),
    );
  });

  it("every contract query answers on every channel", async () => {
    const subject = await personWithCard(hub().gateway.url);
    expect(table.allowed.get("every query")).toEqual(table.channels);
    const queries = splitOperations(
      await readFile(join(SCHEMA_DIR, "operations.graphql"), "utf8"),
    ).filter((op) => op.kind === "query");
    expect(queries.length).toBeGreaterThan(0);
    const answers = await Promise.all(
      queries.flatMap((query) =>
        table.channels.map(async (channel) => {
          const answer = await graphql(
            hub().gateway.url,
            query.document,
            queryVariables(query.name, subject),
            await token({ channel: channel as Channel, scopes: ["cards:read"] }),
          );
          return [`${query.name} from ${channel}`, answer.errors ?? null] as const;
        }),
      ),
    );
    expect(Object.fromEntries(answers.filter(([, errors]) => errors !== null))).toEqual({});
  });

  it(
    "a channel outside an operation's row gets CHANNEL_NOT_ALLOWED and nothing changes; a channel in it is never refused",
    { timeout: 120_000 },
    async () => {
      const rows = [...table.allowed].filter(([row]) => row !== "every query");
      // One subject per row, in the state where the row's operation would change something.
      const subjects = new Map(
        await Promise.all(
          rows.map(async ([row]) => {
            const subject = await personWithCard(hub().gateway.url);
            await CASES[row]!.prepare?.(subject);
            return [row, subject] as const;
          }),
        ),
      );
      const visibleBefore = await Promise.all([...subjects.values()].map(visibleState));
      const storedBefore = await databaseState();

      const refusedCalls = rows.flatMap(([row, allowed]) =>
        table.channels
          .filter((channel) => !allowed.includes(channel))
          .map((channel) => ({ row, channel: channel as Channel })),
      );
      // 5 rows × 13 channels at least: the table must not have been read as (nearly) empty.
      expect(refusedCalls.length).toBeGreaterThan(100);
      const refused = await Promise.all(
        refusedCalls.map(async ({ row, channel }) => {
          const { document, input } = CASES[row]!;
          const answer = await run(
            hub().gateway.url,
            document,
            input(subjects.get(row)!, channel),
            channel,
          );
          return [`${row} from ${channel}`, describeAnswer(answer)] as const;
        }),
      );
      // All at once, so one run names every wrong cell of the table.
      expect(Object.fromEntries(refused)).toEqual(
        Object.fromEntries(refused.map(([call]) => [call, "CHANNEL_NOT_ALLOWED"])),
      );
      // Nothing changed: card, passwords (failed attempts included), electronic card, bank
      // account and history as the contract shows them, and every stored document.
      expect(await Promise.all([...subjects.values()].map(visibleState))).toEqual(visibleBefore);
      const storedAfter = await databaseState();
      expect(storedAfter).toEqual(withEmptyCollections(storedBefore, storedAfter));

      // The allowed channels, one after another per row (each may change the subject's state,
      // so a later one may meet INVALID_TRANSITION or the like, never a channel refusal).
      const allowed = await Promise.all(
        rows.map(async ([row, channels]) => {
          const seen: (readonly [string, string])[] = [];
          for (const channel of channels as Channel[]) {
            const { document, input } = CASES[row]!;
            const answer = await run(
              hub().gateway.url,
              document,
              input(subjects.get(row)!, channel),
              channel,
            );
            seen.push([`${row} from ${channel}`, describeAnswer(answer)]);
          }
          return seen;
        }),
      );
      expect(
        Object.fromEntries(allowed.flat().filter(([, code]) => code === "CHANNEL_NOT_ALLOWED")),
      ).toEqual({});
      // The first allowed call of each row went through: the subjects were in a state where the
      // refused calls would have changed something, so "nothing changed" above proves the refusal.
      expect(allowed.map((seen) => seen[0])).toEqual(allowed.map((seen) => [seen[0]![0], "OK"]));
    },
  );
});

describe("scopes", () => {
  it("a token without the write scope is FORBIDDEN", async () => {
    const { cardId } = await personWithCard(hub().gateway.url);
    const readOnly = await token({ scopes: ["cards:read"] });
    const cards = await graphql(
      hub().gateway.url,
      await contractOperation("CancelCard"),
      { input: { cardId, reason: "x", idempotencyKey: "f" } },
      readOnly,
    );
    expect(codeOf(cards)).toBe("FORBIDDEN");
    const persons = await graphql(
      hub().gateway.url,
      await contractOperation("RegisterPerson"),
      { input: { idNumber: freshIdNumber(), name: "x" } },
      readOnly,
    );
    expect(codeOf(persons)).toBe("FORBIDDEN");
    expect((await cardView(hub().gateway.url, cardId)).status).toBe("ARCHIVED");
  });
});

describe("registration and issuing: bad input", () => {
  it("R-ID-1: registering a malformed identity number is INVALID_ID_NUMBER; a second registration is a CONFLICT", async () => {
    expect(
      codeOf(
        await run(hub().gateway.url, "RegisterPerson", {
          idNumber: "110105194912310021",
          name: "x",
        }),
      ),
    ).toBe("INVALID_ID_NUMBER");
    const idNumber = freshIdNumber();
    const first = await run<{ registerPerson: { person: { id: string; idNumber: string } } }>(
      hub().gateway.url,
      "RegisterPerson",
      { idNumber: idNumber.toLowerCase(), name: "王芳", phone: "138 1234 5678" },
    );
    expect(first.data!.registerPerson.person.idNumber).toBe(idNumber);
    expect(codeOf(await run(hub().gateway.url, "RegisterPerson", { idNumber, name: "王芳" }))).toBe(
      "CONFLICT",
    );
    expect(
      codeOf(
        await run(hub().gateway.url, "RegisterPerson", {
          idNumber: freshIdNumber(),
          name: "x",
          phone: "12345",
        }),
      ),
    ).toBe("BAD_USER_INPUT");
  });

  it("a registration replayed with its idempotency key answers the same person", async () => {
    const input = { idNumber: freshIdNumber(), name: "李强", idempotencyKey: "reg-1" };
    const first = await run(hub().gateway.url, "RegisterPerson", input, "NATIONAL_PLATFORM");
    expect(await run(hub().gateway.url, "RegisterPerson", input, "NATIONAL_PLATFORM")).toEqual(
      first,
    );
  });

  it("unknown card → NOT_FOUND; unknown person or bad province → NOT_FOUND / BAD_USER_INPUT", async () => {
    expect(
      codeOf(await run(hub().gateway.url, "EnableSocialSecurityFunction", { cardId: "c_nope" })),
    ).toBe("NOT_FOUND");
    expect(
      codeOf(
        await run(hub().gateway.url, "IssueCard", {
          personId: "p_nope",
          province: "11",
          issuingBank: "中国银行",
        }),
      ),
    ).toBe("NOT_FOUND");
    const { personId } = await personWithCard(hub().gateway.url);
    expect(
      codeOf(
        await run(hub().gateway.url, "IssueCard", {
          personId,
          province: "99",
          issuingBank: "中国银行",
        }),
      ),
    ).toBe("BAD_USER_INPUT");
  });

  it("R-ID-2: an agent acts only with a valid ID and a power of attorney, and is recorded on the event", async () => {
    const { cardId } = await personWithCard(hub().gateway.url);
    const badAgent = await run(hub().gateway.url, "CancelCard", {
      cardId,
      reason: "x",
      idempotencyKey: "a1",
      agent: { idNumber: "123", name: "代理", powerOfAttorneyRef: "P-1" },
    });
    expect(codeOf(badAgent)).toBe("INVALID_ID_NUMBER");
    const noPower = await run(hub().gateway.url, "CancelCard", {
      cardId,
      reason: "x",
      idempotencyKey: "a2",
      agent: { idNumber: "11010519491231002X", name: "代理", powerOfAttorneyRef: " " },
    });
    expect(codeOf(noPower)).toBe("BAD_USER_INPUT");
    const ok = await run(
      hub().gateway.url,
      "CancelCard",
      {
        cardId,
        reason: "x",
        idempotencyKey: "a3",
        agent: { idNumber: "11010519491231002X", name: "代理", powerOfAttorneyRef: "P-1" },
      },
      "COUNTER",
      "counter-77",
    );
    expect(ok.errors).toBeUndefined();
    expect((await cardView(hub().gateway.url, cardId)).history.at(-1)).toMatchObject({
      type: "CANCELLED",
      actor: "counter-77",
      channel: "COUNTER",
      agentIdNumber: "11010519491231002X",
    });
  });
});
