import type { Db } from "mongodb";
import type { Ledger } from "./ledger.js";

// What the invariants read of the cards and accounts, and each card's whole history.

export interface HistoryEntry {
  _id: string;
  seq: number;
  at?: Date;
  type: string;
  fromStatus: string | null;
  toStatus: string;
  details?: Record<string, unknown> | null;
}

export interface Card {
  _id: string;
  personId: string;
  status: string;
  version: number;
  socialFunction: { enabled: boolean };
  bankAccountStatus: string | null;
  history?: HistoryEntry[];
}

export interface Account {
  _id: string;
  cardId: string;
  status: string;
  activatedAt: Date | null;
  version: number;
  card?: { status: string; version: number } | null;
}

/** A card's whole history: the entries kept in it and those moved to buckets, by sequence. */
export async function histories(cards: Db, all: Card[]): Promise<Map<string, HistoryEntry[]>> {
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
export function lastAnnouncedVersion(entries: HistoryEntry[]): number {
  let version = 1;
  for (const entry of entries)
    if (entry.fromStatus !== entry.toStatus || entry.type === "REPLACED") version = entry.seq + 1;
  return version;
}

/** The cards, accounts and histories at the end of a run, and what a violation about a card shows. */
export interface CardFacts {
  ledger: Ledger;
  db: (name: string) => Db;
  cards: Card[];
  accounts: Account[];
  accountOf: Map<string, Account>;
  cardOf: Map<string, Card>;
  history: Map<string, HistoryEntry[]>;
  evidence: (cardId: string) => { entries: string[]; requests: unknown[] };
}

/** Reads the facts the invariants judge from the run's databases. */
export async function cardFacts(dbs: Map<string, Db>, ledger: Ledger): Promise<CardFacts> {
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
  return { ledger, db, cards, accounts, accountOf, cardOf, history, evidence };
}
