import { describe, expect, it } from "vitest";
import { checkCharacter, checkIdNumber, composeIdNumber } from "./identity-number.js";

describe("R-ID-1: the identity number is validated (length, birth date, MOD 11-2 check)", () => {
  it("accepts a valid number and reads province, birth date and sex from it", () => {
    // 11010519491231002X is the published GB 11643 example.
    expect(checkIdNumber("11010519491231002X")).toEqual({
      valid: true,
      idNumber: "11010519491231002X",
      province: "11",
      birthDate: "19491231",
      sex: "FEMALE",
    });
  });

  it("normalises a lower-case x and surrounding spaces", () => {
    expect(checkIdNumber(" 11010519491231002x ")).toMatchObject({
      valid: true,
      idNumber: "11010519491231002X",
    });
  });

  it.each([
    ["too short", "1101051949123100"],
    ["letters inside", "11010519491A31002X"],
    ["unknown province", "99010519491231002X"],
    ["impossible date", composeIdNumber("110105", "19490230", 2)],
    ["future birth date", composeIdNumber("110105", "20990101", 2)],
    ["wrong check character", "110105194912310021"],
  ])("rejects %s", (_why, value) => {
    const result = checkIdNumber(value, new Date("2026-11-25T00:00:00Z"));
    expect(result.valid).toBe(false);
    if (!result.valid) expect(result.reason.length).toBeGreaterThan(10);
  });

  it("composes numbers whose check character validates, for every sequence", () => {
    for (let sequence = 0; sequence < 1000; sequence += 37) {
      const id = composeIdNumber("440305", "19900307", sequence);
      expect(checkIdNumber(id).valid).toBe(true);
      expect(id[17]).toBe(checkCharacter(id.slice(0, 17)));
    }
  });
});
