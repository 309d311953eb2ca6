import { describe, expect, it } from "vitest";
import { hashPassword, verifyPassword } from "./password-hash.js";

describe("R-PWD-6: passwords are stored only as salted slow hashes", () => {
  it("hashes with scrypt and a fresh salt each time, never containing the password", async () => {
    const a = await hashPassword("802615");
    const b = await hashPassword("802615");
    expect(a).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain("802615");
  });
  it("verifies the right password and refuses a wrong one or a malformed hash", async () => {
    const stored = await hashPassword("802615");
    expect(await verifyPassword("802615", stored)).toBe(true);
    expect(await verifyPassword("802616", stored)).toBe(false);
    expect(await verifyPassword("802615", "plain$802615")).toBe(false);
  });
});
