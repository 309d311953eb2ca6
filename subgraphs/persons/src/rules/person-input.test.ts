import { HubError } from "@hub/kit";
import { describe, expect, it } from "vitest";
import { validatePersonInput } from "./person-input.js";

const today = new Date("2026-11-25T00:00:00Z");

function code(run: () => unknown): string | null {
  try {
    run();
    return null;
  } catch (error) {
    return (error as HubError).code;
  }
}

describe("registration input", () => {
  it("R-ID-1: normalises a valid identity number and rejects a malformed one with INVALID_ID_NUMBER", () => {
    expect(validatePersonInput({ idNumber: "11010519491231002x", name: " 王芳 " }, today)).toEqual({
      idNumber: "11010519491231002X",
      name: "王芳",
      phone: null,
    });
    expect(
      code(() => validatePersonInput({ idNumber: "11010519491231002Y", name: "x" }, today)),
    ).toBe("INVALID_ID_NUMBER");
  });
  it("accepts an 11-digit mobile number with spaces or dashes, and refuses anything else", () => {
    expect(
      validatePersonInput(
        { idNumber: "11010519491231002X", name: "x", phone: "138-1234-5678" },
        today,
      ).phone,
    ).toBe("13812345678");
    expect(
      code(() =>
        validatePersonInput(
          { idNumber: "11010519491231002X", name: "x", phone: "010-12345678" },
          today,
        ),
      ),
    ).toBe("BAD_USER_INPUT");
  });
  it("requires a name of 1 to 50 characters", () => {
    expect(
      code(() => validatePersonInput({ idNumber: "11010519491231002X", name: "  " }, today)),
    ).toBe("BAD_USER_INPUT");
    expect(
      code(() =>
        validatePersonInput({ idNumber: "11010519491231002X", name: "x".repeat(51) }, today),
      ),
    ).toBe("BAD_USER_INPUT");
  });
});
