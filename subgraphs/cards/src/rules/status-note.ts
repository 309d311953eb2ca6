import type { CardStatus } from "../model/enums.js";

/**
 * R-CARD-6: status queries must say that a card not collected or not enabled does not affect
 * paying contributions, and never describe the card as "blocked".
 */
export function statusNote(status: CardStatus, collected: boolean): string {
  const contributions = "Contributions are paid and recorded as usual whatever the card's status.";
  switch (status) {
    case "ARCHIVED":
      return collected
        ? `The card has been collected but its social security function is not enabled yet; enable it at any enabling channel. ${contributions}`
        : `The card is issued and waiting to be collected; its social security function is not enabled yet. ${contributions}`;
    case "NORMAL":
      return `The card is in normal use. ${contributions}`;
    case "TEMPORARY_LOSS":
      return `The card is temporarily reported lost; withdraw the report or formally report the loss at a counter. ${contributions}`;
    case "LOST":
      return `The card is formally reported lost; withdraw the report if it is found, or apply for a replacement. ${contributions}`;
    case "CANCELLED":
      return `The card is cancelled and can no longer be used. ${contributions}`;
    case "EXPIRED":
      return `The card is past its 10-year validity; apply for a replacement. ${contributions}`;
  }
}
