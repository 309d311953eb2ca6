import { registerEnumType } from "type-graphql";

/** Why a card is replaced; decides the fee (R-CARD-8). */
export const ReplacementReason = {
  STAINED: "STAINED",
  CRACKED: "CRACKED",
  CHIP_DETACHED: "CHIP_DETACHED",
  HUMAN_DAMAGE: "HUMAN_DAMAGE",
  LOST: "LOST",
  EXPIRED: "EXPIRED",
  QUALITY_DEFECT: "QUALITY_DEFECT",
  RENEWAL: "RENEWAL",
} as const;
export type ReplacementReason = (typeof ReplacementReason)[keyof typeof ReplacementReason];

registerEnumType(ReplacementReason, {
  name: "ReplacementReason",
  description: "Why a card is replaced (R-CARD-8 decides the fee from it).",
  valuesConfig: {
    STAINED: { description: "The surface is stained (20 yuan)." },
    CRACKED: { description: "The card is cracked (20 yuan)." },
    CHIP_DETACHED: { description: "The chip has fallen off (20 yuan)." },
    HUMAN_DAMAGE: { description: "Damaged by a person (20 yuan)." },
    LOST: { description: "The card is lost (20 yuan)." },
    EXPIRED: { description: "Past its 10-year validity (20 yuan)." },
    QUALITY_DEFECT: {
      description:
        "Within validity and intact but does not work: a quality defect (0 yuan; 20 once past validity).",
    },
    RENEWAL: {
      description:
        "Renewal within 60 days before expiry, with the holder's consent (R-CARD-7; the hub charges 0 yuan).",
    },
  },
});
