import { refusal } from "@hub/kit/testing";
import { describe, expect, it } from "vitest";
import {
  checkCancelReason,
  checkPoliceCertificateRef,
  MAX_CANCEL_REASON_LENGTH,
} from "./card-inputs.js";

describe("free text on card mutations (input bounds)", () => {
  it("R-CARD-10: a cancellation reason is kept trimmed, up to 200 characters", () => {
    expect(checkCancelReason("  持卡人申请注销 ")).toBe("持卡人申请注销");
    const longest = "因".repeat(MAX_CANCEL_REASON_LENGTH);
    expect(checkCancelReason(longest)).toBe(longest);
  });

  it.each([
    ["empty", ""],
    ["blank", " \n\t "],
    ["201 characters", "x".repeat(MAX_CANCEL_REASON_LENGTH + 1)],
    ["28,000 characters", "x".repeat(28_000)],
  ])("R-CARD-10: a %s cancellation reason is BAD_USER_INPUT naming reason", (_why, reason) => {
    const error = refusal(() => checkCancelReason(reason));
    expect(error?.code).toBe("BAD_USER_INPUT");
    expect(error?.extensions["field"]).toBe("reason");
  });

  it("R-CARD-9: a police certificate reference is optional, trimmed and at most 64 characters", () => {
    expect(checkPoliceCertificateRef(null)).toBeNull();
    expect(checkPoliceCertificateRef(undefined)).toBeNull();
    expect(checkPoliceCertificateRef("  ")).toBeNull();
    expect(checkPoliceCertificateRef(" PS-2026-001 ")).toBe("PS-2026-001");
    const error = refusal(() => checkPoliceCertificateRef("R".repeat(65)));
    expect(error?.code).toBe("BAD_USER_INPUT");
    expect(error?.extensions["field"]).toBe("policeCertificateRef");
  });
});
