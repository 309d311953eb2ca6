import { describe, expect, it } from "vitest";
import { HubError } from "@hub/kit";
import { checkElectronicServicesOpen, electronicCardAvailability } from "./electronic-card.js";

describe("R-ECARD-2: the electronic card follows its physical card", () => {
  it("is usable when the physical card is NORMAL or ARCHIVED", () => {
    expect(electronicCardAvailability("NORMAL")).toBe("USABLE");
    expect(electronicCardAvailability("ARCHIVED")).toBe("USABLE");
  });
  it("needs the holder's authorization while the card is reported lost", () => {
    expect(electronicCardAvailability("TEMPORARY_LOSS")).toBe("AUTHORIZATION_REQUIRED");
    expect(electronicCardAvailability("LOST")).toBe("AUTHORIZATION_REQUIRED");
  });
  it("is unavailable for a cancelled (or expired) card", () => {
    expect(electronicCardAvailability("CANCELLED")).toBe("UNAVAILABLE");
    expect(electronicCardAvailability("EXPIRED")).toBe("UNAVAILABLE");
  });
});

describe("R-PWD-4: a locked electronic-card password locks every electronic-card service", () => {
  const now = new Date("2026-11-25T08:00:00Z");
  it("open with no lock, or once the lock has lifted (at its end exactly)", () => {
    expect(() => checkElectronicServicesOpen(null, now)).not.toThrow();
    expect(() => checkElectronicServicesOpen(new Date(now.getTime() - 1), now)).not.toThrow();
    expect(() => checkElectronicServicesOpen(now, now)).not.toThrow();
  });
  it("closed until the lock lifts, saying when", () => {
    const lockedUntil = new Date(now.getTime() + 1);
    let error: unknown = null;
    try {
      checkElectronicServicesOpen(lockedUntil, now);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(HubError);
    expect(error).toMatchObject({
      message:
        "Electronic-card services are locked after too many wrong electronic-card passwords; the lock lifts by itself.",
      extensions: { code: "PASSWORD_LOCKED", lockedUntil: "2026-11-25T08:00:00.001Z" },
    });
  });
});
