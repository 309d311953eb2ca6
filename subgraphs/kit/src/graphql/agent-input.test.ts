import { describe, expect, it } from "vitest";
import { refusal } from "../testing/refusal.js";
import { checkFreeText, MAX_REFERENCE_LENGTH, validateAgent } from "./agent-input.js";

const today = new Date("2026-12-01T00:00:00Z");
const AGENT = { idNumber: "11010519491231002X", name: "代理人", powerOfAttorneyRef: "P-1" };

describe("free text a channel types (input bounds)", () => {
  const bounds = { max: 5, required: true, what: "A note" };

  it("keeps text within its bound, trimmed, counting characters as a person does", () => {
    expect(checkFreeText("note", "  ab c ", bounds)).toBe("ab c");
    expect(checkFreeText("note", "挂失补办卡", bounds)).toBe("挂失补办卡");
    // Five characters outside the Basic Multilingual Plane are ten UTF-16 code units.
    expect(checkFreeText("note", "𠀀𠀁𠀂𠀃𠀄", bounds)).toBe("𠀀𠀁𠀂𠀃𠀄");
  });

  it("refuses over-long text with BAD_USER_INPUT naming the field", () => {
    const error = refusal(() => checkFreeText("note", "abcdef", bounds));
    expect(error?.code).toBe("BAD_USER_INPUT");
    expect(error?.extensions["field"]).toBe("note");
    expect(error?.message).toMatch(/at most 5/);
  });

  it("refuses required text that is empty once trimmed; optional text may be empty", () => {
    expect(refusal(() => checkFreeText("note", " \t ", bounds))?.extensions["field"]).toBe("note");
    expect(checkFreeText("note", "  ", { ...bounds, required: false })).toBe("");
  });
});

describe("an agent acting for the holder (R-ID-2)", () => {
  it("R-ID-2: a valid agent is kept, trimmed", () => {
    expect(
      validateAgent({ ...AGENT, name: " 代理人 ", powerOfAttorneyRef: " P-1 " }, today),
    ).toEqual(AGENT);
    expect(validateAgent(null, today)).toBeNull();
  });

  it.each([
    ["an invalid identity number", { idNumber: "123" }, "INVALID_ID_NUMBER", "agent.idNumber"],
    [
      "a 90 KB identity number",
      { idNumber: "1".repeat(90 * 1024) },
      "INVALID_ID_NUMBER",
      "agent.idNumber",
    ],
    ["a name over 50 characters", { name: "名".repeat(51) }, "BAD_USER_INPUT", "agent.name"],
    ["a 28,000-character name", { name: "x".repeat(28_000) }, "BAD_USER_INPUT", "agent.name"],
    ["an empty name", { name: "  " }, "BAD_USER_INPUT", "agent.name"],
    [
      "no power of attorney",
      { powerOfAttorneyRef: " " },
      "BAD_USER_INPUT",
      "agent.powerOfAttorneyRef",
    ],
    [
      "a power-of-attorney reference over 64 characters",
      { powerOfAttorneyRef: "P".repeat(MAX_REFERENCE_LENGTH + 1) },
      "BAD_USER_INPUT",
      "agent.powerOfAttorneyRef",
    ],
  ])("R-ID-2: %s is refused, naming the field", (_why, patch, code, field) => {
    const error = refusal(() => validateAgent({ ...AGENT, ...patch }, today));
    expect(error?.code).toBe(code);
    expect(error?.extensions["field"]).toBe(field);
  });

  it("R-ID-2: a power-of-attorney reference of exactly 64 characters is kept", () => {
    const ref = "P".repeat(MAX_REFERENCE_LENGTH);
    expect(validateAgent({ ...AGENT, powerOfAttorneyRef: ref }, today)?.powerOfAttorneyRef).toBe(
      ref,
    );
  });
});
