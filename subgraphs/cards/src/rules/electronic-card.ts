import type { CardStatus, ElectronicCardAvailability } from "../model/enums.js";

/**
 * R-ECARD-2: the electronic card follows its physical card. Decision: an EXPIRED physical card
 * makes the electronic card UNAVAILABLE, as a cancelled one does, until it is replaced.
 */
export function electronicCardAvailability(status: CardStatus): ElectronicCardAvailability {
  switch (status) {
    case "NORMAL":
    case "ARCHIVED":
      return "USABLE";
    case "TEMPORARY_LOSS":
    case "LOST":
      return "AUTHORIZATION_REQUIRED";
    case "CANCELLED":
    case "EXPIRED":
      return "UNAVAILABLE";
  }
}
