import type { Channel } from "@hub/kit";
import type { CommandStartedEvent } from "mongodb";
import { beforeAll, describe, expect, it } from "vitest";
import { bankStatus, codeOf, freshIdNumber, run } from "./support/cards.js";
import { eventually } from "./support/eventually.js";
import { useTestHub } from "./support/hub.js";

/**
 * docs/scale.md "Shard keys", by `subgraph database.collection` as the code names them (the
 * database is `<prefix>_<subgraph>`). A write that names one document must carry its collection's
 * whole shard key, with an equality, or a sharded cluster cannot send it to one shard: it is
 * broadcast (MongoDB ≥ 7.1) or refused (earlier versions, and every upsert).
 */
const SHARD_KEYS: Record<string, readonly string[]> = {
  "persons.persons": ["_id"],
  "persons.persons_by_id_number": ["_id"],
  "cards.cards": ["personId", "_id"],
  "cards.card_numbers": ["_id"],
  "cards.known_persons": ["_id"],
  "cards.card_history_buckets": ["cardId"],
  // Histories of cards stored before histories moved into cards: read only, grown no more.
  "cards.card_events": ["cardId"],
  "bank_accounts.bank_accounts": ["cardId"],
  "passwords.card_passwords": ["_id"],
  "passwords.electronic_card_passwords": ["_id"],
  "passwords.password_events": ["subject"],
  // Not in the table yet: one per card / per person announced to passwords, so they grow with
  // the cards and persons and are sharded the same way as cards.known_persons.
  "passwords.known_cards": ["_id"],
  "passwords.known_persons": ["_id"],
};

/** Small and transient (docs/scale.md): they stay on each database's primary shard. */
const UNSHARDED = new Set([
  "outbox",
  "outbox_lanes",
  "idempotency_keys",
  "transaction_lock",
  "dead_letters",
  // One document per receiving subgraph: the majority mark after each batch (events.md).
  "inbox_marks",
]);

/**
 * The feed's log and its counter (numbered in one transaction per entry: one replica set) and
 * its webhooks' bookkeeping (docs/scale.md).
 */
const UNSHARDED_IN_FEED = new Set([
  "feed.card_events",
  "feed.card_event_counter",
  // The log's layout on the embedded demo database only (64 entries per document).
  "feed.card_event_buckets",
  "feed.webhooks",
  "feed.webhook_deliveries",
  "feed.webhook_lanes",
]);

const hub = useTestHub({ seed: false });
/** The createIndexes commands of the hub's start-up (its declared indexes). */
let startup: CommandStartedEvent[] = [];
beforeAll(() => {
  startup = [...hub().commands];
});

/** One statement of a write command: a document's filter, or an inserted document. */
interface WriteStatement {
  collection: string;
  kind: string;
  filter?: Record<string, unknown>;
  inserted?: Record<string, unknown>;
}

/** `subgraph.collection` of a command (null for another database, e.g. admin). */
function collectionOf(event: CommandStartedEvent): string | null {
  const prefix = `${hub().dbPrefix}_`;
  if (!event.databaseName.startsWith(prefix)) return null;
  return `${event.databaseName.slice(prefix.length)}.${String(event.command[event.commandName])}`;
}

function statementsOf(event: CommandStartedEvent): WriteStatement[] {
  const collection = collectionOf(event);
  if (!collection) return [];
  const command = event.command;
  type Statement = Record<string, unknown> & { q: Record<string, unknown> };
  switch (event.commandName) {
    case "update":
      return (command["updates"] as Statement[]).map((u) => ({
        collection,
        kind: u["multi"] ? "updateMany" : u["upsert"] ? "updateOne (upsert)" : "updateOne",
        filter: u.q,
      }));
    case "delete":
      return (command["deletes"] as Statement[]).map((d) => ({
        collection,
        kind: Number(d["limit"]) === 1 ? "deleteOne" : "deleteMany",
        filter: d.q,
      }));
    case "findAndModify":
      return [
        {
          collection,
          kind: command["remove"] ? "findOneAndDelete" : "findOneAndUpdate",
          filter: (command["query"] ?? {}) as Record<string, unknown>,
        },
      ];
    case "insert":
      return (command["documents"] as Record<string, unknown>[]).map((inserted) => ({
        collection,
        kind: "insert",
        inserted,
      }));
    default:
      return [];
  }
}

/** An equality on `field`: a value, or `{ $eq: value }` (not `$in`, `$ne`, a range…). */
function hasEquality(filter: Record<string, unknown>, field: string): boolean {
  if (!(field in filter)) return false;
  const value = filter[field];
  if (value === null || typeof value !== "object" || Array.isArray(value)) return true;
  const keys = Object.keys(value);
  return keys.length === 0 || !keys.some((key) => key.startsWith("$")) || keys.includes("$eq");
}

/**
 * The retention sweep (kit/mongo/retention.ts) deletes what is older than a date: a multi-document
 * delete that every shard runs on its own part, by design without a shard key.
 */
function isRetentionSweep(statement: WriteStatement): boolean {
  if (statement.kind !== "deleteMany" || !statement.filter) return false;
  const entries = Object.entries(statement.filter);
  if (entries.length !== 1) return false;
  const condition = entries[0]![1] as Record<string, unknown> | null;
  return (
    condition !== null &&
    typeof condition === "object" &&
    Object.keys(condition).join() === "$lt" &&
    condition["$lt"] instanceof Date
  );
}

const shape = (filter: Record<string, unknown>) => `{ ${Object.keys(filter).join(", ")} }`;

/**
 * What is wrong with `statement` for a sharded cluster, or null: a filter without an equality on
 * each shard key field, an inserted document without them, or a collection the plan does not
 * place.
 */
function problemOf(statement: WriteStatement): string | null {
  const name = statement.collection.split(".").slice(1).join(".");
  if (UNSHARDED.has(name) || UNSHARDED_IN_FEED.has(statement.collection)) return null;
  const key = SHARD_KEYS[statement.collection];
  if (!key)
    return `${statement.collection} ${statement.kind}: collection not in docs/scale.md "Shard keys" (sharded? by what?)`;
  if (statement.inserted) {
    const missing = key.filter((field) => !(field in statement.inserted!));
    return missing.length === 0
      ? null
      : `${statement.collection} insert: document lacks shard key field(s) ${missing.join(", ")}`;
  }
  if (isRetentionSweep(statement)) return null;
  const filter = statement.filter ?? {};
  const missing = key.filter((field) => !hasEquality(filter, field));
  return missing.length === 0
    ? null
    : `${statement.collection} ${statement.kind} by ${shape(filter)}: lacks shard key ${missing.join(", ")} (shard key { ${key.join(", ")} })`;
}

type Step = [operation: string, input: Record<string, unknown>, channel?: Channel];

describe("docs/scale.md shard keys: every write a contract mutation causes is targeted", () => {
  it("each update, delete and findAndModify on a sharded collection filters by its whole shard key, and each insert carries it", async () => {
    const url = hub().gateway.url;
    hub().commands.length = 0;
    /** Which step each command was sent during (index of its first command → step label). */
    const marks: { from: number; label: string }[] = [];
    const step = async (
      label: string,
      [operation, input, channel]: Step,
      expectCode?: string,
    ): Promise<Record<string, unknown>> => {
      marks.push({ from: hub().commands.length, label });
      const answer = await run(url, operation, input, channel);
      if (expectCode) expect(codeOf(answer), `${label}`).toBe(expectCode);
      else expect(answer.errors, `${label}: ${String(codeOf(answer))}`).toBeUndefined();
      return (answer.data ?? {}) as Record<string, unknown>;
    };

    // A person: registered (with a key), the registration replayed, a second registration refused.
    const idNumber = freshIdNumber();
    const registration = { idNumber, name: "分片人", idempotencyKey: "shard-reg" };
    const registered = await step("RegisterPerson", ["RegisterPerson", registration]);
    const personId = (registered["registerPerson"] as { person: { id: string } }).person.id;
    await step("RegisterPerson (replay)", ["RegisterPerson", registration]);
    await step(
      "RegisterPerson (second registration)",
      ["RegisterPerson", { idNumber, name: "分片人" }],
      "CONFLICT",
    );

    // A card through every single-card mutation, its passwords locked and unlocked.
    const issueInput = { personId, province: "44", issuingBank: "中国工商银行" };
    const issued = await step("IssueCard", ["IssueCard", { ...issueInput, idempotencyKey: "i1" }]);
    const cardId = (issued["issueCard"] as { card: { id: string } }).card.id;
    await eventually(async () => expect(await bankStatus(url, cardId)).toBe("NOT_ACTIVATED"));
    const steps: [string, Step, string?][] = [
      ["CollectCard", ["CollectCard", { cardId }]],
      ["EnableSocialSecurityFunction", ["EnableSocialSecurityFunction", { cardId }, "PHARMACY"]],
      [
        "ChangeCardPassword",
        ["ChangeCardPassword", { cardId, currentPassword: "123456", newPassword: "802615" }],
      ],
      ["VerifyCardPassword", ["VerifyCardPassword", { cardId, password: "802615" }]],
      ...Array.from({ length: 6 }, (_, i): [string, Step] => [
        `VerifyCardPassword (wrong ${i + 1}, locks at 6)`,
        ["VerifyCardPassword", { cardId, password: "111111" }],
      ]),
      ["ResetCardPassword", ["ResetCardPassword", { cardId, idempotencyKey: "reset-1" }]],
      // Before the electronic-card password locks (a lock would block issuing).
      ["IssueElectronicCard", ["IssueElectronicCard", { cardId, faceMatched: true }, "APP"]],
      [
        "SetElectronicCardPassword",
        ["SetElectronicCardPassword", { personId, newPassword: "394857" }, "APP"],
      ],
      [
        "VerifyElectronicCardPassword",
        ["VerifyElectronicCardPassword", { personId, password: "394857" }, "APP"],
      ],
      ...Array.from({ length: 7 }, (_, i): [string, Step] => [
        `VerifyElectronicCardPassword (wrong ${i + 1}, locks at 7)`,
        ["VerifyElectronicCardPassword", { personId, password: "000000" }, "APP"],
      ]),
      ["ReportCardLoss (temporary)", ["ReportCardLoss", { cardId, temporary: true }, "APP"]],
      ["ReportCardLoss (formal)", ["ReportCardLoss", { cardId, temporary: false }, "BANK_COUNTER"]],
      ["WithdrawLossReport", ["WithdrawLossReport", { cardId }]],
      [
        "ActivateFinancialFunction",
        ["ActivateFinancialFunction", { cardId, idempotencyKey: "act-1" }, "BANK_COUNTER"],
      ],
    ];
    for (const [label, request, code] of steps) await step(label, request, code);

    // More than 64 changes (HISTORY_KEPT) move the oldest out of the card into a history bucket.
    for (let i = 0; i < 33; i++) {
      await step("ReportCardLoss (history)", ["ReportCardLoss", { cardId, temporary: true }]);
      await step("WithdrawLossReport (history)", ["WithdrawLossReport", { cardId }]);
    }

    // Replaced; the replacement activated at the bank, cancelled, and its account closed.
    const replaced = await step("ReplaceCard", [
      "ReplaceCard",
      { cardId, reason: "STAINED", idempotencyKey: "rep-1" },
    ]);
    const newCardId = (replaced["replaceCard"] as { newCard: { id: string } }).newCard.id;
    await eventually(async () => expect(await bankStatus(url, newCardId)).toBe("NOT_ACTIVATED"));
    await step("ActivateFinancialFunction (new card)", [
      "ActivateFinancialFunction",
      { cardId: newCardId, idempotencyKey: "act-2" },
      "BANK_COUNTER",
    ]);
    await step("CancelCard", [
      "CancelCard",
      { cardId: newCardId, reason: "moved abroad", idempotencyKey: "cancel-1" },
    ]);
    await eventually(async () =>
      expect(await bankStatus(url, newCardId)).toBe("CANCELLATION_REQUIRED"),
    );
    await step("CancelBankAccount", [
      "CancelBankAccount",
      { cardId: newCardId, idempotencyKey: "bank-cancel-1" },
      "BANK_COUNTER",
    ]);
    // The events of the last mutations delivered (their writes in the receivers included).
    await eventually(async () => {
      const pending = await Promise.all(
        ["persons", "cards", "passwords", "bank_accounts"].map((db) =>
          hub().client.db(`${hub().dbPrefix}_${db}`).collection("outbox").countDocuments({}),
        ),
      );
      expect(pending.reduce((a, b) => a + b, 0)).toBe(0);
    }, 30_000);

    const during = (index: number) =>
      marks.findLast((mark) => mark.from <= index)?.label ?? "start";
    const problems = new Map<string, { steps: Set<string>; count: number }>();
    const written = new Set<string>();
    hub().commands.forEach((event, index) => {
      for (const statement of statementsOf(event)) {
        written.add(statement.collection);
        const problem = problemOf(statement);
        if (!problem) continue;
        const seen = problems.get(problem) ?? { steps: new Set<string>(), count: 0 };
        seen.steps.add(during(index));
        seen.count += 1;
        problems.set(problem, seen);
      }
    });
    const report = [...problems]
      .map(
        ([problem, { steps, count }]) =>
          `${problem} — ${count}× during ${[...steps].slice(0, 4).join("; ")}${steps.size > 4 ? `; … (${steps.size} steps)` : ""}`,
      )
      .sort();
    // The run reached every collection the plan shards and the hub writes (else an empty report
    // would prove little).
    const notReached = [
      "bank_accounts.bank_accounts",
      "cards.card_history_buckets",
      "cards.cards",
      "cards.known_persons",
      "passwords.card_passwords",
      "passwords.electronic_card_passwords",
      "passwords.password_events",
      "persons.persons",
      "persons.persons_by_id_number",
    ].filter((collection) => !written.has(collection));
    expect({ untargeted: report, notReached }).toEqual({ untargeted: [], notReached: [] });
    // About 110 mutations in a row: more than the default 30 s on a loaded machine.
  }, 180_000);

  it("every unique index a subgraph declares is compatible with its collection's shard key (prefixed by it)", () => {
    const incompatible: string[] = [];
    for (const event of startup) {
      if (event.commandName !== "createIndexes") continue;
      const collection = collectionOf(event);
      const key = collection ? SHARD_KEYS[collection] : undefined;
      if (!collection || !key) continue;
      for (const index of event.command["indexes"] as {
        name: string;
        key: Map<string, unknown> | Record<string, unknown>;
        unique?: boolean;
      }[]) {
        if (!index.unique) continue;
        const fields = index.key instanceof Map ? [...index.key.keys()] : Object.keys(index.key);
        if (key.some((field, i) => fields[i] !== field))
          incompatible.push(
            `${collection} unique index ${index.name} { ${fields.join(", ")} }: not prefixed by the shard key { ${key.join(", ")} }`,
          );
      }
    }
    expect(startup.some((event) => event.commandName === "createIndexes")).toBe(true);
    expect(incompatible).toEqual([]);
  });
});
