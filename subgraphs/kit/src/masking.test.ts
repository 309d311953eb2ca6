import { describe, expect, it } from "vitest";
import { maskAccountNumber, maskIdNumber, maskPhone } from "./masking.js";

describe("R-ID-3: personal numbers are masked for callers without pii:read", () => {
  it("masks an identity number as 1101**********123X", () => {
    expect(maskIdNumber("11010519491231123X")).toBe("1101**********123X");
  });
  it("masks a bank account number, keeping 4 digits at each end", () => {
    expect(maskAccountNumber("6222021234567890123")).toBe("6222***********0123");
  });
  it("masks a phone number as 138****5678", () => {
    expect(maskPhone("13812345678")).toBe("138****5678");
  });
  it("never reveals a short value", () => {
    expect(maskPhone("1234")).toBe("****");
  });
  it("masks everything up to the characters it keeps, and shows them from one more on", () => {
    expect(maskIdNumber("12345678")).toBe("********");
    expect(maskIdNumber("123456789")).toBe("1234*6789");
    expect(maskAccountNumber("12345678")).toBe("********");
    expect(maskAccountNumber("123456789")).toBe("1234*6789");
    expect(maskPhone("1234567")).toBe("*******");
    expect(maskPhone("12345678")).toBe("123*5678");
    expect(maskPhone("")).toBe("");
  });
});
