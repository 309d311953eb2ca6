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

describe("R-ID-1: the edges of a valid identity number", () => {
  const today = new Date("2026-11-25T00:00:00Z");

  it("accepts every GB/T 2260 province-level code and no other", () => {
    const provinces =
      "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82";
    for (const province of provinces.split(" ")) {
      const id = composeIdNumber(`${province}0105`, "19900307", 1);
      expect(checkIdNumber(id, today), province).toMatchObject({ valid: true, province });
    }
    for (const other of [
      "00",
      "10",
      "16",
      "20",
      "24",
      "30",
      "38",
      "40",
      "47",
      "55",
      "60",
      "66",
      "70",
      "72",
      "80",
      "83",
      "91",
      "99",
    ])
      expect(checkIdNumber(composeIdNumber(`${other}0105`, "19900307", 1), today)).toEqual({
        valid: false,
        reason: `"${other}" is not a province code.`,
      });
  });

  it("reads an odd sequence as a man and an even one as a woman", () => {
    expect(checkIdNumber(composeIdNumber("110105", "19900307", 1), today)).toMatchObject({
      sex: "MALE",
    });
    expect(checkIdNumber(composeIdNumber("110105", "19900307", 19), today)).toMatchObject({
      sex: "MALE",
    });
    expect(checkIdNumber(composeIdNumber("110105", "19900307", 18), today)).toMatchObject({
      sex: "FEMALE",
      birthDate: "19900307",
    });
  });

  it("takes birth dates from 1900-01-01 up to today, and real calendar dates only", () => {
    const check = (birthDate: string) =>
      checkIdNumber(composeIdNumber("110105", birthDate, 1), today);
    expect(check("19000101").valid).toBe(true);
    expect(check("20261125").valid).toBe(true);
    expect(check("20000229").valid).toBe(true);
    for (const bad of [
      "18991231",
      "20261126",
      "19001301",
      "19000001",
      "19000100",
      "19010229",
      "19900431",
    ])
      expect(check(bad), bad).toEqual({
        valid: false,
        reason: "The birth date part of the identity number is not a valid date.",
      });
  });

  it("has exactly 18 characters, the last a digit or X, and says so", () => {
    const valid = composeIdNumber("110105", "19900307", 1);
    const shape = {
      valid: false,
      reason: "An identity number has 17 digits followed by a digit or X.",
    };
    for (const bad of [
      `${valid}1`,
      `1${valid}`,
      valid.slice(0, 17),
      `${valid.slice(0, 17)}Y`,
      "",
      "X".repeat(18),
    ])
      expect(checkIdNumber(bad, today), bad).toEqual(shape);
    expect(checkIdNumber("110105194912310021", today)).toEqual({
      valid: false,
      reason: "The check character of the identity number is wrong.",
    });
  });

  it("computes the MOD 11-2 check character of the published examples", () => {
    expect(checkCharacter("11010519491231002")).toBe("X");
    expect(checkCharacter("44030519900307001")).toBe("4");
    // Not 17 digits: no check character at all, so nothing can match it.
    expect(checkCharacter("4403051990030700A")).toBe("");
    expect(composeIdNumber("110105", "19491231", 2)).toBe("11010519491231002X");
  });
});
