import { describe, expect, it } from "vitest";
import { checkPersonName } from "./person-name.js";

describe("names as channels type them (input bounds)", () => {
  it("keeps a real name, trimmed", () => {
    expect(checkPersonName("  王芳 ")).toBe("王芳");
    expect(checkPersonName("Anne-Marie O'Neil")).toBe("Anne-Marie O'Neil");
  });
  it("refuses a name with no visible character", () => {
    for (const name of ["\u200B\u200B", "\u3000", "\u00A0\u00A0"])
      expect(() => checkPersonName(name)).toThrow(/visible character|1 to 50/);
  });
  it("refuses control and bidirectional-override characters", () => {
    for (const name of ["王\u0000芳", "王\n芳", "\u202E芳王", "王\u2066芳", "王\u200F芳"])
      expect(() => checkPersonName(name)).toThrow(/control or text-direction/);
  });
  it("refuses an empty or over-long name", () => {
    expect(() => checkPersonName("   ")).toThrow(/1 to 50/);
    expect(() => checkPersonName("名".repeat(51))).toThrow(/1 to 50/);
  });
});
