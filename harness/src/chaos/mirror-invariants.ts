import { lastAnnouncedVersion, type CardFacts } from "./card-histories.js";
import { result, type InvariantResult } from "./invariant-result.js";

/** The bank's mirror of each card, the card's of its account, and activation ⇒ enabled. */
export function mirrorInvariants(facts: CardFacts): InvariantResult[] {
  const { cards, accounts, accountOf, cardOf, history, evidence } = facts;
  const results: InvariantResult[] = [];
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
  return results;
}
