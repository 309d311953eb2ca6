import type { CardFacts } from "./card-histories.js";
import { result, type InvariantResult } from "./invariant-result.js";

/** Every issued card and registered person known to every subgraph that needs it. */
export async function knownEverywhere(facts: CardFacts): Promise<InvariantResult[]> {
  const { db, cards, accounts, accountOf, cardOf } = facts;
  const results: InvariantResult[] = [];
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
  return results;
}
