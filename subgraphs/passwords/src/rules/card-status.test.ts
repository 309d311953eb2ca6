import { HubError } from "@hub/kit";
import { describe, expect, it } from "vitest";
import { checkCardPasswordUsable } from "./card-status.js";

describe("whether a card's password may still be used", () => {
  it("R-CARD-10 / R-PWD-3: a CANCELLED card's password is INVALID_TRANSITION, naming the status", () => {
    let thrown: unknown = null;
    try {
      checkCardPasswordUsable("CANCELLED");
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(HubError);
    expect((thrown as HubError).code).toBe("INVALID_TRANSITION");
    expect((thrown as HubError).extensions["currentStatus"]).toBe("CANCELLED");
    expect((thrown as HubError).message).toMatch(/CANCELLED/);
  });

  it.each(["ARCHIVED", "NORMAL", "TEMPORARY_LOSS", "LOST", null, undefined])(
    "R-PWD-3: a card that is %s keeps a usable password",
    (status) => {
      expect(() => checkCardPasswordUsable(status)).not.toThrow();
    },
  );
});
