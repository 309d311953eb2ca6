import { HubError } from "@hub/kit";

/**
 * New social security and electronic-card passwords: 6 digits, not the initial password, not one
 * digit repeated, not an ascending or descending run. The error says why, never anything about the
 * old password.
 */
export function checkNewPassword(candidate: string, initialPassword: string): void {
  if (!/^\d{6}$/.test(candidate))
    throw new HubError("BAD_USER_INPUT", "A password is exactly 6 digits.");
  if (candidate === initialPassword)
    throw new HubError("BAD_USER_INPUT", "The new password must differ from the initial password.");
  if (/^(\d)\1{5}$/.test(candidate))
    throw new HubError("BAD_USER_INPUT", "A password cannot be one digit repeated.");
  const steps = [...candidate].slice(1).map((digit, i) => Number(digit) - Number(candidate[i]));
  if (steps.every((s) => s === 1) || steps.every((s) => s === -1)) {
    throw new HubError(
      "BAD_USER_INPUT",
      "A password cannot be an ascending or descending run of digits.",
    );
  }
}
