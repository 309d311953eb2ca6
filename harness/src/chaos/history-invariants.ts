import type { CardFacts } from "./card-histories.js";
import { result, type InvariantResult } from "./invariant-result.js";

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

/** Each card's history against its version, the clients' answers, and events applied. */
export function historyInvariants(facts: CardFacts): InvariantResult[] {
  const { ledger, cards, history, evidence } = facts;
  const results: InvariantResult[] = [];
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
  return results;
}
