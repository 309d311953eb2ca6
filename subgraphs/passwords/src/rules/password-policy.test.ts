import { HubError } from "@hub/kit";
import { describe, expect, it } from "vitest";
import { checkNewPassword } from "./password-policy.js";

const reason = (candidate: string) => {
  try {
    checkNewPassword(candidate, "123456");
    return null;
  } catch (error) {
    expect((error as HubError).code).toBe("BAD_USER_INPUT");
    return (error as HubError).message;
  }
};

describe("new passwords (issue #4 rules)", () => {
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
