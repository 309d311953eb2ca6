import { describe, expect, it } from "vitest";
import { electronicCardAvailability } from "./electronic-card.js";

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
