import type { CardStatus, DuplicateAction, MirroredBankAccountStatus } from "../model/enums.js";
import type { StoredCardStatus } from "./card-facts.js";

export interface DuplicateCandidate {
  id: string;
  province: string;
  /** The status as the caller sees it (EXPIRED derived). */
  status: CardStatus;
  issuedAt: Date;
  issuingBank: string;
  bankAccountStatus: MirroredBankAccountStatus | null;
}

export interface DuplicateRecommendation {
  cardId: string;
  action: DuplicateAction;
  reason: string;
}

export interface DuplicateGroupResult<C extends DuplicateCandidate> {
  province: string;
  cards: C[];
  actions: DuplicateRecommendation[];
}

/** An account that still has to be closed at the bank (NOT_ACTIVATED never held money). */
const OPEN_ACCOUNT: ReadonlySet<MirroredBankAccountStatus> = new Set([
  "ACTIVE",
  "LOSS_REPORTED",
  "CANCELLATION_REQUIRED",
]);
const UNAVAILABLE: ReadonlySet<CardStatus> = new Set([
  "TEMPORARY_LOSS",
  "LOST",
  "CANCELLED",
  "EXPIRED",
]);

/**
 * R-DUP-1: two or more cards of one person in the same province are duplicates.
 * R-DUP-2, with the hub's decisions where the seed is silent:
 * - an unavailable card (lost, temporarily lost, cancelled, expired) whose bank account is still
 *   open → cancel the account at a partner bank outlet; with no open account nothing is left to do,
 *   so it gets no action;
 * - among usable cards (NORMAL, ARCHIVED) the one to keep is the newest NORMAL card (or, when none
 *   is enabled, the newest card); every other NORMAL card → confirm local use (keep it if used for
 *   local services, otherwise cancel it with its bank account); every other ARCHIVED card was
 *   never used → cancel it together with its bank account.
 */
export function findDuplicates<C extends DuplicateCandidate>(
  cards: readonly C[],
): DuplicateGroupResult<C>[] {
  const byProvince = new Map<string, C[]>();
  for (const card of cards.filter(takesPart)) {
    const group = byProvince.get(card.province);
    if (group) group.push(card);
    else byProvince.set(card.province, [card]);
  }
  const groups: DuplicateGroupResult<C>[] = [];
  for (const [province, group] of [...byProvince].sort(([a], [b]) => a.localeCompare(b))) {
    if (group.length < 2) continue;
    const sorted = [...group].sort((a, b) => a.issuedAt.getTime() - b.issuedAt.getTime());
    groups.push({ province, cards: sorted, actions: recommend(sorted) });
  }
  return groups;
}

/**
 * A cancelled card (a replaced one included) is no longer held: it counts towards duplicates only
 * while its bank account is still open, since that account still has to be closed (so a replaced
 * card and its replacement are no duplicate pair once the old account is closed or never opened).
 */
function takesPart(card: DuplicateCandidate): boolean {
  return (
    card.status !== "CANCELLED" ||
    (card.bankAccountStatus !== null && OPEN_ACCOUNT.has(card.bankAccountStatus))
  );
}

/** What R-DUP-1 needs to know of a person's existing cards when another is to be issued. */
export interface HeldCard {
  id: string;
  province: string;
  status: CardStatus | StoredCardStatus;
  replacedById: string | null;
}

/**
 * R-DUP-1: one person holds one card per province. A card still held there (any status but
 * cancelled, and not replaced) blocks issuing another: the way forward is replaceCard. Returns the
 * blocking card, or null.
 */
export function cardHeldInProvince<C extends HeldCard>(
  cards: readonly C[],
  province: string,
): C | null {
  return (
    cards.find(
      (card) =>
        card.province === province && card.status !== "CANCELLED" && card.replacedById === null,
    ) ?? null
  );
}

function recommend(cards: readonly DuplicateCandidate[]): DuplicateRecommendation[] {
  const usable = cards.filter((c) => !UNAVAILABLE.has(c.status));
  const newestFirst = [...usable].sort((a, b) => b.issuedAt.getTime() - a.issuedAt.getTime());
  const keep = newestFirst.find((c) => c.status === "NORMAL") ?? newestFirst[0];
  const actions: DuplicateRecommendation[] = [];
  for (const card of cards) {
    if (UNAVAILABLE.has(card.status)) {
      if (card.bankAccountStatus && OPEN_ACCOUNT.has(card.bankAccountStatus)) {
        actions.push({
          cardId: card.id,
          action: "CANCEL_BANK_ACCOUNT_AT_COUNTER",
          reason: `The card is ${card.status.toLowerCase().replace("_", " ")} but its bank account at ${card.issuingBank} is still open: cancel the account over the counter at any ${card.issuingBank} outlet.`,
        });
      }
    } else if (card === keep) {
      actions.push({
        cardId: card.id,
        action: "KEEP",
        reason: "This is the card to keep in this province.",
      });
    } else if (card.status === "NORMAL") {
      actions.push({
        cardId: card.id,
        action: "CONFIRM_LOCAL_USE",
        reason:
          "Keep this card if the holder uses local employment or social security services with it; otherwise apply to cancel it together with its bank account.",
      });
    } else {
      actions.push({
        cardId: card.id,
        action: "CANCEL_CARD_AND_BANK_ACCOUNT",
        reason:
          "This duplicate card was never enabled: apply to cancel it together with its bank account.",
      });
    }
  }
  return actions;
}
