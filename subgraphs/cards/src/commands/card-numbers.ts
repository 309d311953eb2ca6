import { randomInt } from "node:crypto";
import { HubError } from "@hub/kit";
import type { ClientSession } from "mongodb";
import { CARD_NUMBER_DRAWS, drawCardNumber } from "../rules/card-number.js";
import type { CardStores } from "./card-stores.js";

/** A printed number drawn with crypto's random digits. */
export const randomCardNumber = (): string => drawCardNumber(randomInt);

/**
 * A number no card has in `province` (R-CARD-9: a new card, a new number), checked against the
 * reservations before anything is written, with a bounded number of draws. Looked up rather
 * than caught as a duplicate key: on a MongoDB replica set a failed write aborts the whole
 * transaction (a replacement), so a retry inside it would fail. A number taken between this look
 * and its reservation is handled there (storeClaimed draws again; a transaction fails at the
 * reservation's `_id` rather than issuing it twice).
 */
export async function unusedNumber(
  stores: Pick<CardStores, "repository" | "drawNumber">,
  province: string,
  session?: ClientSession,
): Promise<string> {
  for (let attempt = 0; attempt < CARD_NUMBER_DRAWS; attempt++) {
    const number = stores.drawNumber();
    if (await stores.repository.isNumberFree(province, number, session)) return number;
  }
  throw new HubError(
    "SERVICE_UNAVAILABLE",
    `${CARD_NUMBER_DRAWS} card numbers drawn in a row for province ${province} were all taken; nothing was issued. Try again.`,
    { province },
  );
}
