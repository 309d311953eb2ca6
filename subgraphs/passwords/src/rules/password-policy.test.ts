import { HubError } from "@hub/kit";
import { refusal } from "@hub/kit/testing";
import { describe, expect, it } from "vitest";
import {
  checkNewPassword,
  checkOptionalPasswordFormat,
  checkPasswordFormat,
} from "./password-policy.js";

const reason = (candidate: string) => {
  try {
    checkNewPassword(candidate, "123456");
    return null;
  } catch (error) {
    expect((error as HubError).code).toBe("BAD_USER_INPUT");
    expect((error as HubError).extensions["field"]).toBe("newPassword");
    return (error as HubError).message;
  }
};

describe("new passwords (R-PWD-2 rules)", () => {
  it("accepts 6 digits that are not weak", () => {
    for (const ok of ["802615", "135790", "112233", "120456"]) expect(reason(ok)).toBeNull();
  });
  it.each([
    ["too short", "12345", /6 digits/],
    ["letters", "12a456", /6 digits/],
    ["the initial password", "123456", /initial/],
    ["one digit repeated", "777777", /repeated/],
    ["ascending run", "345678", /run/],
    ["descending run", "987654", /run/],
  ])("refuses %s, saying why", (_why, candidate, pattern) => {
    expect(reason(candidate)).toMatch(pattern);
  });
});

describe("the format of every password argument (R-PWD-3, R-PWD-4)", () => {
  it("R-PWD-3: exactly 6 digits is a well-formed entry, weak or not", () => {
    for (const ok of ["123456", "000000", "802615"])
      expect(refusal(() => checkPasswordFormat("password", ok))).toBeNull();
  });

  it.each([
    ["empty", ""],
    ["5 digits", "12345"],
    ["7 digits", "1234567"],
    ["90 KB", "1".repeat(90 * 1024)],
    ["letters", "12a456"],
    ["spaces around", " 123456"],
    ["a trailing newline", "123456\n"],
    ["full-width digits", "１２３４５６"],
    ["Arabic-Indic digits", "١٢٣٤٥٦"],
  ])(
    "R-PWD-3: %s is BAD_USER_INPUT naming the field and never echoing the value",
    (_why, value) => {
      const error = refusal(() => checkPasswordFormat("currentPassword", value));
      expect(error?.code).toBe("BAD_USER_INPUT");
      expect(error?.extensions["field"]).toBe("currentPassword");
      if (value.trim()) expect(error?.message).not.toContain(value.trim());
    },
  );

  it("R-PWD-4: an absent optional current password is not checked; a given one is", () => {
    for (const absent of [null, undefined, ""])
      expect(refusal(() => checkOptionalPasswordFormat("currentPassword", absent))).toBeNull();
    expect(refusal(() => checkOptionalPasswordFormat("currentPassword", "1234"))?.code).toBe(
      "BAD_USER_INPUT",
    );
  });
});

describe("what a refusal says", () => {
  it("names the field it was given and says exactly why", () => {
    expect(refusal(() => checkPasswordFormat("password", "12"))?.message).toBe(
      "password: a password is exactly 6 digits.",
    );
    const named = (candidate: string) =>
      refusal(() => checkNewPassword(candidate, "802615", "newElectronicPassword"));
    expect(named("802615")).toMatchObject({
      message: "The new password must differ from the initial password.",
      extensions: { code: "BAD_USER_INPUT", field: "newElectronicPassword" },
    });
    expect(named("000000")).toMatchObject({
      message: "A password cannot be one digit repeated.",
      extensions: { field: "newElectronicPassword" },
    });
    expect(named("012345")).toMatchObject({
      message: "A password cannot be an ascending or descending run of digits.",
      extensions: { field: "newElectronicPassword" },
    });
    expect(named("123")?.message).toBe("newElectronicPassword: a password is exactly 6 digits.");
  });

  it("a run must hold over all six digits, in one direction", () => {
    for (const ok of ["123457", "023456", "987653", "123321", "121212", "777778", "135791"])
      expect(
        refusal(() => checkNewPassword(ok, "802615")),
        ok,
      ).toBeNull();
    for (const run of ["012345", "456789", "543210", "876543"])
      expect(refusal(() => checkNewPassword(run, "802615"))?.message, run).toMatch(/run/);
  });
});
