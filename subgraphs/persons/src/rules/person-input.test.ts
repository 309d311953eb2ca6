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

describe("registration phone numbers", () => {
  const id = "11010519491231002X";
  const phone = (value: string | null | undefined) =>
    validatePersonInput({ idNumber: id, name: "王芳", phone: value }, today).phone;

  it("no phone, or only spaces and dashes, is no phone", () => {
    for (const none of [undefined, null, "", " ", "--"]) expect(phone(none)).toBeNull();
  });

  it("keeps the 11 digits of a mainland mobile number, with its spaces and dashes gone", () => {
    expect(phone("138 1234 5678")).toBe("13812345678");
    expect(phone(" 138-1234 -5678 ")).toBe("13812345678");
    expect(phone("\t13812345678")).toBe("13812345678");
  });

  it("refuses anything else, saying what a phone number is", () => {
    for (const bad of [
      "1381234567",
      "138123456789",
      "23812345678",
      "+8613812345678",
      "a13812345678",
      "13812345678a",
      "138.1234.5678",
    ]) {
      let error: unknown = null;
      try {
        phone(bad);
      } catch (thrown) {
        error = thrown;
      }
      expect(error, bad).toBeInstanceOf(HubError);
      expect((error as HubError).code).toBe("BAD_USER_INPUT");
      expect((error as HubError).message).toBe(
        "A phone number is an 11-digit mainland mobile number.",
      );
    }
  });

  it("an invalid identity number is answered with the reason the check gives", () => {
    let error: unknown = null;
    try {
      validatePersonInput({ idNumber: "99010519491231002X", name: "x" }, today);
    } catch (thrown) {
      error = thrown;
    }
    expect((error as HubError).message).toBe('"99" is not a province code.');
    expect(
      validatePersonInput({ idNumber: " 11010519491231002X ", name: "x" }, today).idNumber,
    ).toBe(id);
  });
});
