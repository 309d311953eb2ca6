import { SUBGRAPH_NAMES, subgraphDatabaseName, type MongoClient } from "@hub/kit";
import type { Db } from "mongodb";
import type { Kill } from "./killer.js";
import type { Ledger } from "./ledger.js";

export interface InvariantResult {
  name: string;
  ok: boolean;
  /** How many things were checked (cards, accounts, …) and how many broke the rule. */
  checked: number;
  violations: number;
  /** The first few violations, enough to start looking. */
  examples: unknown[];
  note?: string;
}

/** Events waiting for delivery, per database: in the outbox and still carried in documents. */
export interface Pending {
  outbox: Record<string, number>;
  carried: Record<string, number>;
  total: number;
}

interface HistoryEntry {
  _id: string;
  seq: number;
  at?: Date;
  type: string;
  fromStatus: string | null;
  toStatus: string;
  details?: Record<string, unknown> | null;
}

interface Card {
  _id: string;
  personId: string;
  status: string;
  version: number;
  socialFunction: { enabled: boolean };
  bankAccountStatus: string | null;
  history?: HistoryEntry[];
}

interface Account {
  _id: string;
  cardId: string;
  status: string;
  activatedAt: Date | null;
  version: number;
  card?: { status: string; version: number } | null;
}

const EXAMPLES = 8;
/** Change types only the clients cause: each OK answer is one entry, each lost answer maybe one. */
const COUNTED = [
  "ISSUED",
  "ISSUED_AS_REPLACEMENT",
  "COLLECTED",
  "LOSS_REPORTED_TEMPORARY",
  "LOSS_REPORTED_FORMAL",
  "LOSS_REPORT_WITHDRAWN",
  "CANCELLED",
  "REPLACED",
];
/** Change types a card records at most once (events may cause them too, or an OK may be a no-op). */
const AT_MOST_ONCE = ["SOCIAL_FUNCTION_ENABLED", "ELECTRONIC_CARD_ISSUED"];

export function databases(client: MongoClient, prefix: string): Map<string, Db> {
  return new Map(
    SUBGRAPH_NAMES.map((name) => [name, client.db(subgraphDatabaseName(prefix, name))]),
  );
}

/**
 * The collections whose documents carry events (Outbox.carriedIn): a single-document write stores
 * its events in the document and releases them to the outbox after. The embedded server has no
 * listCollections, so they are named here.
 */
const CARRIERS: Record<string, string[]> = {
  persons: ["persons"],
  cards: ["cards"],
  "bank-accounts": ["bank_accounts"],
  passwords: [],
};

export async function pendingEvents(dbs: Map<string, Db>): Promise<Pending> {
  const pending: Pending = { outbox: {}, carried: {}, total: 0 };
  for (const [name, db] of dbs) {
    pending.outbox[name] = await db.collection("outbox").countDocuments({});
    // Not released yet, or left by a writer that died before releasing: the relay's sweep moves
    // them to the outbox (the same filter as the relay's sweep).
    let carried = 0;
    for (const collection of CARRIERS[name] ?? [])
      carried += await db
        .collection(collection)
        .countDocuments({ outgoingSince: { $gt: new Date(0) } });
    pending.carried[name] = carried;
    pending.total += pending.outbox[name]! + carried;
  }
  return pending;
}

/** Polls until nothing waits for delivery; the time it took, or null after `timeoutMs`. */
export async function waitForDrain(
  dbs: Map<string, Db>,
  timeoutMs: number,
): Promise<{ ms: number | null; pending: Pending }> {
  const started = Date.now();
  for (;;) {
    const pending = await pendingEvents(dbs);
    if (pending.total === 0) return { ms: Date.now() - started, pending };
    if (Date.now() - started > timeoutMs) return { ms: null, pending };
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function result(
  name: string,
  checked: number,
  violations: unknown[],
  note?: string,
): InvariantResult {
  return {
    name,
    ok: violations.length === 0,
    checked,
    violations: violations.length,
    examples: violations.slice(0, EXAMPLES),
    ...(note ? { note } : {}),
  };
}

/** A card's whole history: the entries kept in it and those moved to buckets, by sequence. */
async function histories(cards: Db, all: Card[]): Promise<Map<string, HistoryEntry[]>> {
  const byCard = new Map<string, Map<string, HistoryEntry>>();
  const add = (cardId: string, entry: HistoryEntry) => {
    const entries = byCard.get(cardId) ?? new Map<string, HistoryEntry>();
    // An entry moved to a bucket by a write that then lost its race is also still in its card.
    entries.set(entry._id, entry);
    byCard.set(cardId, entries);
  };
  for await (const bucket of cards.collection("card_history_buckets").find({}))
    for (const entry of (bucket["events"] ?? []) as HistoryEntry[])
      add(String(bucket["cardId"]), entry);
  for await (const entry of cards.collection("card_events").find({}))
    add(String(entry["cardId"]), entry as unknown as HistoryEntry);
  for (const card of all) for (const entry of card.history ?? []) add(card._id, entry);
  return new Map(
    [...byCard].map(([id, entries]) => [id, [...entries.values()].sort((a, b) => a.seq - b.seq)]),
  );
}

/**
 * The version a card had after its last change the bank hears of (CardStatusChanged: a status
 * change, or a replacement; CardIssued: version 1). A collection, or an electronic card on a card
 * already in use, changes the card's version without telling the bank.
 */
function lastAnnouncedVersion(entries: HistoryEntry[]): number {
  let version = 1;
  for (const entry of entries)
    if (entry.fromStatus !== entry.toStatus || entry.type === "REPLACED") version = entry.seq + 1;
  return version;
}

export async function checkInvariants(options: {
  dbs: Map<string, Db>;
  ledger: Ledger;
  pending: Pending;
  kills: Kill[];
  clients: number;
  minKills: number;
  replicasReady: Record<string, boolean>;
}): Promise<InvariantResult[]> {
  const { dbs, ledger } = options;
  const db = (name: string) => dbs.get(name)!;
  const cards = (await db("cards").collection<Card>("cards").find({}).toArray()) as Card[];
  const accounts = (await db("bank-accounts")
    .collection<Account>("bank_accounts")
    .find({})
    .toArray()) as Account[];
  const accountOf = new Map(accounts.map((a) => [a.cardId, a]));
  const cardOf = new Map(cards.map((c) => [c._id, c]));
  const history = await histories(db("cards"), cards);
  /** What a violation about a card shows: its history, and what the client asked and heard. */
  const evidence = (cardId: string) => ({
    entries: (history.get(cardId) ?? []).map(
      (e) => `${e.seq}:${e.type} ${e.at ? new Date(e.at).getTime() - ledger.startedAt : "?"}`,
    ),
    requests: ledger.trail.get(cardId) ?? [],
  });
  const results: InvariantResult[] = [];

  results.push(
    result(
      "outboxes drained",
      SUBGRAPH_NAMES.length,
      Object.keys(options.pending.outbox)
        .filter((n) => options.pending.outbox[n] || options.pending.carried[n])
        .map((n) => ({
          database: n,
          outbox: options.pending.outbox[n],
          carried: options.pending.carried[n],
        })),
    ),
  );

  // Counting a collection that does not exist answers 0: no need to know whether the relay
  // dead-letters yet.
  const deadLetters: unknown[] = [];
  for (const [name, database] of dbs) {
    const count = await database.collection("dead_letters").countDocuments({});
    if (count > 0)
      deadLetters.push({
        database: name,
        count,
        first: await database.collection("dead_letters").find({}).limit(3).toArray(),
      });
  }
  results.push(result("no dead letters", dbs.size, deadLetters));

  const mirror: unknown[] = [];
  let sameVersion = 0;
  for (const card of cards) {
    const account = accountOf.get(card._id);
    if (!account) continue; // "issued cards known everywhere" counts it
    const expected = lastAnnouncedVersion(history.get(card._id) ?? []);
    if (account.card?.version === card.version) sameVersion += 1;
    if (account.card?.status !== card.status || account.card?.version !== expected)
      mirror.push({
        cardId: card._id,
        card: { status: card.status, version: card.version, lastAnnouncedVersion: expected },
        bankMirror: account.card ?? null,
        ...evidence(card._id),
      });
  }
  results.push(
    result(
      "bank mirror = card",
      accounts.length,
      mirror,
      `status equal and mirror version = the card's version at its last status change; ${sameVersion} of ${accounts.length} mirrors also equal the card's current version (changes without a status change are not announced)`,
    ),
  );

  const cardMirror = cards
    .filter((c) => accountOf.has(c._id) && c.bankAccountStatus !== accountOf.get(c._id)!.status)
    .map((c) => ({
      cardId: c._id,
      cardSays: c.bankAccountStatus,
      cardSaysVersion: (c as { bankAccountVersion?: number }).bankAccountVersion ?? null,
      account: accountOf.get(c._id)!.status,
      accountVersion: accountOf.get(c._id)!.version,
      ...evidence(c._id),
    }));
  results.push(result("card's bankAccountStatus = account", accounts.length, cardMirror));

  const activated = accounts.filter((a) => a.activatedAt);
  results.push(
    result(
      "activated account ⇒ social function enabled",
      activated.length,
      activated
        .filter((a) => !cardOf.get(a.cardId)?.socialFunction.enabled)
        .map((a) => ({
          cardId: a.cardId,
          account: a.status,
          activatedAt: a.activatedAt,
          card: cardOf.get(a.cardId)?.status ?? "missing",
          ...evidence(a.cardId),
        })),
    ),
  );

  const knownCards = new Set(
    (
      await db("passwords")
        .collection("known_cards")
        .find({}, { projection: { _id: 1 } })
        .toArray()
    ).map((d) => String(d._id)),
  );
  const unknownCards: unknown[] = [];
  for (const card of cards)
    if (!accountOf.has(card._id) || !knownCards.has(card._id))
      unknownCards.push({
        cardId: card._id,
        status: card.status,
        bankAccount: accountOf.has(card._id),
        passwords: knownCards.has(card._id),
      });
  for (const account of accounts)
    if (!cardOf.has(account.cardId))
      unknownCards.push({ orphanAccount: account._id, cardId: account.cardId });
  // An issue claims the card in the person's registry entry first and stores it after: a claim
  // whose card was never stored is a card the answer promised and nobody else knows.
  for await (const person of db("cards")
    .collection("known_persons")
    .find({ issuing: { $ne: null } })) {
    const claimed = String(
      (person["issuing"] as { card?: { _id?: unknown } } | null)?.card?._id ?? "",
    );
    if (claimed && !cardOf.has(claimed))
      unknownCards.push({ claimedCard: claimed, personId: person._id, stored: false });
  }
  const persons = (
    await db("persons")
      .collection("persons")
      .find({}, { projection: { _id: 1 } })
      .toArray()
  ).map((p) => String(p._id));
  for (const [subgraph, collection] of [
    ["cards", "known_persons"],
    ["passwords", "known_persons"],
  ] as const) {
    const known = new Set(
      (
        await db(subgraph)
          .collection(collection)
          .find({}, { projection: { _id: 1 } })
          .toArray()
      ).map((d) => String(d._id)),
    );
    for (const person of persons)
      if (!known.has(person)) unknownCards.push({ personId: person, unknownTo: subgraph });
  }
  results.push(
    result(
      "issued cards and registered persons known everywhere",
      cards.length + persons.length,
      unknownCards,
    ),
  );

  // Every change of a card is one version-guarded write that adds one history entry: a gap or a
  // surplus means a change was recorded without its entry, or twice.
  results.push(
    result(
      "history complete (entries = card version)",
      cards.length,
      cards
        .filter((c) => (history.get(c._id) ?? []).length !== c.version)
        .map((c) => ({
          cardId: c._id,
          version: c.version,
          entries: (history.get(c._id) ?? []).map((e) => `${e.seq}:${e.type}`),
        })),
    ),
  );

  const counts: unknown[] = [];
  let unledgered = 0;
  for (const card of cards) {
    const entries = history.get(card._id) ?? [];
    if (!ledger.knows(card._id)) {
      unledgered += 1;
      continue;
    }
    const actual = new Map<string, number>();
    for (const entry of entries) actual.set(entry.type, (actual.get(entry.type) ?? 0) + 1);
    const ok = ledger.applied.get(card._id);
    const unknown = ledger.unknown.get(card._id);
    for (const type of COUNTED) {
      const [has, min] = [actual.get(type) ?? 0, ok?.get(type) ?? 0];
      const max = min + (unknown?.get(type) ?? 0);
      if (has < min || has > max)
        counts.push({
          cardId: card._id,
          type,
          history: has,
          okAnswers: min,
          unknownAnswers: max - min,
          ...evidence(card._id),
        });
    }
    for (const type of AT_MOST_ONCE) {
      const has = actual.get(type) ?? 0;
      if (has > 1 || (has === 0 && (ok?.get(type) ?? 0) > 0))
        counts.push({
          cardId: card._id,
          type,
          history: has,
          okAnswers: ok?.get(type) ?? 0,
          ...evidence(card._id),
        });
    }
  }
  if (unledgered > ledger.unknownCreations)
    counts.push({
      problem: "cards no answer announced",
      cards: unledgered,
      lostIssueOrReplaceAnswers: ledger.unknownCreations,
    });
  results.push(
    result(
      "history counts = OK answers (± lost answers)",
      cards.length,
      counts,
      `${unledgered} card(s) created by a request whose answer was lost (allowed: ${ledger.unknownCreations})`,
    ),
  );

  const seen = new Map<string, string>();
  const twice: unknown[] = [];
  let eventEntries = 0;
  for (const [cardId, entries] of history)
    for (const entry of entries) {
      const eventId = entry.details?.["eventId"];
      if (typeof eventId !== "string") continue;
      eventEntries += 1;
      const first = seen.get(eventId);
      if (first) twice.push({ eventId, type: entry.type, cards: [first, cardId] });
      else seen.set(eventId, cardId);
    }
  results.push(result("no event applied twice", eventEntries, twice));

  const failed = ledger.totals().failed + ledger.totals().partial;
  const allowed = options.clients * options.kills.length;
  results.push(
    result(
      "failed requests ≤ one per client per kill",
      ledger.totals().requests,
      failed > allowed
        ? [{ failed, allowed, clients: options.clients, kills: options.kills.length }]
        : [],
      `${failed} failed of ${ledger.totals().requests}; allowed ${allowed}`,
    ),
  );

  const killed = new Set(options.kills.map((k) => k.service));
  const chaos: unknown[] = [];
  if (options.kills.length < options.minKills)
    chaos.push({ kills: options.kills.length, wanted: options.minKills });
  for (const name of SUBGRAPH_NAMES) if (!killed.has(name)) chaos.push({ neverKilled: name });
  for (const [replica, ready] of Object.entries(options.replicasReady))
    if (!ready) chaos.push({ notReadyAtEnd: replica });
  for (const kill of options.kills)
    if (kill.foundDead || kill.restartFailed) chaos.push({ badKill: kill });
  results.push(
    result(
      "chaos applied, every replica back",
      options.kills.length,
      chaos,
      `${options.kills.length} kills: ${[...killed].join(", ")}`,
    ),
  );
  return results;
}
