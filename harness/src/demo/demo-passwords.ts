import type { DemoData } from "./demo-data-types.js";

/** The demo card password of every demo card whose password state is SET (documented in docs/demo-data.md). */
export const DEMO_CARD_PASSWORD = "802615";
/** The demo electronic-card password of demo persons who have one. */
export const DEMO_ELECTRONIC_PASSWORD = "394857";

/**
 * Password records need real scrypt hashes, which are slow by design; one hash of each demo
 * password is shared by the demo records that use it.
 */
export function addDemoPasswords(
  data: DemoData,
  now: Date,
  cardHash: string,
  electronicHash: string,
): void {
  const hours = (h: number) => new Date(now.getTime() - h * 60 * 60 * 1000);
  const locked = new Set(data.cardPasswords.map((p) => p._id));
  data.cards.forEach((card, index) => {
    if (card.status === "NORMAL" && !locked.has(card._id) && index % 2 === 0) {
      data.cardPasswords.push({
        _id: card._id,
        hash: cardHash,
        state: "SET",
        failedAttempts: index % 4 === 0 ? 2 : 0,
        lockedAt: null,
        updatedAt: hours(500),
      });
    }
  });
  const withEcard = [...new Set(data.cards.filter((c) => c.electronicCard).map((c) => c.personId))];
  withEcard.forEach((personId, index) => {
    const isLocked = index === 1;
    if (isLocked) data.showcase.lockedElectronicPassword = personId;
    data.electronicPasswords.push({
      _id: personId,
      hash: electronicHash,
      failedAttempts: isLocked ? 7 : 0,
      lockedAt: isLocked ? hours(3) : null,
      updatedAt: hours(3),
    });
  });
}
