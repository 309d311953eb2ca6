import { HubError } from "@hub/kit";
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

/**
 * R-PWD-4: while the person's electronic-card password is locked, every electronic-card service
 * is, issuing an electronic card included (the lock lifts by itself at `lockedUntil`).
 */
export function checkElectronicServicesOpen(lockedUntil: Date | null, now: Date): void {
  if (lockedUntil && now.getTime() < lockedUntil.getTime())
    throw new HubError(
      "PASSWORD_LOCKED",
      "Electronic-card services are locked after too many wrong electronic-card passwords; the lock lifts by itself.",
      { lockedUntil: lockedUntil.toISOString() },
    );
}
