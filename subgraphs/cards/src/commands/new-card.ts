import { randomUUID } from "node:crypto";
import { expiryFor } from "../rules/validity.js";
import type { CardDocument, CardEventDocument } from "../store/card-document.js";
import { historyEntry } from "./card-history.js";
import type { CommandMeta } from "./command-meta.js";

/** What a new card is issued with: an issue's plan, or the card it replaces. */
export interface NewCardPlan {
  personId: string;
  province: string;
  issuingBank: string;
  issuedAt: Date;
  status: CardDocument["status"];
  replacesId: string | null;
}

const newId = (prefix: string) => `${prefix}_${randomUUID().replace(/-/g, "").slice(0, 16)}`;

/** A new card as stored: its first history entry inside it, with `number` (drawn as unused). */
export function newCard(
  meta: CommandMeta,
  plan: NewCardPlan,
  type: CardEventDocument["type"],
  number: string,
): CardDocument {
  const id = newId("c");
  return {
    _id: id,
    personId: plan.personId,
    number,
    province: plan.province,
    issuingBank: plan.issuingBank,
    status: plan.status,
    issuedAt: plan.issuedAt,
    expiresAt: expiryFor(plan.issuedAt),
    collectedAt: plan.status === "NORMAL" ? meta.now : null,
    socialFunction:
      plan.status === "NORMAL"
        ? { enabled: true, enabledAt: meta.now, channel: meta.caller.channel }
        : { enabled: false, enabledAt: null, channel: null },
    electronicCard: null,
    replacesId: plan.replacesId,
    replacedById: null,
    bankAccountStatus: null,
    version: 1,
    updatedAt: meta.now,
    history: [historyEntry({ _id: id }, meta, type, null, plan.status)(0)],
    archivedHistory: 0,
    keys: [],
  };
}
