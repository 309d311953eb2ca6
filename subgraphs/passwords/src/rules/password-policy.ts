import { HubError } from "@hub/kit";

/** Every password the hub takes, card or electronic, is exactly six digits (R-PWD-1, R-PWD-4). */
const PASSWORD_FORMAT = /^\d{6}$/;

/**
 * Any password a caller sends, checked before anything looks at the card or hashes it: an entry
 * that cannot be a password is a bad input, not a wrong guess, so it never costs an attempt, and a
 * huge string never reaches the deliberately slow hash. The answer names the field, never the
 * value (it could be a real password typed into the wrong box).
 */
export function checkPasswordFormat(field: string, value: string): void {
  if (!PASSWORD_FORMAT.test(value))
    throw new HubError("BAD_USER_INPUT", `${field}: a password is exactly 6 digits.`, { field });
}

/**
 * An optional password argument (the current electronic-card password before one is set): null,
 * undefined and "" all mean "not given", as the service has always read them; anything else must
 * be a password.
 */
export function checkOptionalPasswordFormat(field: string, value: string | null | undefined): void {
  if (value === null || value === undefined || value === "") return;
  checkPasswordFormat(field, value);
}

/**
 * New social security and electronic-card passwords: 6 digits, not the initial password, not one
 * digit repeated, not an ascending or descending run. The error says why, never anything about the
 * old password.
 */
export function checkNewPassword(
  candidate: string,
  initialPassword: string,
  field = "newPassword",
): void {
  checkPasswordFormat(field, candidate);
  if (candidate === initialPassword)
    throw new HubError(
      "BAD_USER_INPUT",
      "The new password must differ from the initial password.",
      { field },
    );
  if (/^(\d)\1{5}$/.test(candidate))
    throw new HubError("BAD_USER_INPUT", "A password cannot be one digit repeated.", { field });
  const steps = [...candidate].slice(1).map((digit, i) => Number(digit) - Number(candidate[i]));
  if (steps.every((s) => s === 1) || steps.every((s) => s === -1)) {
    throw new HubError(
      "BAD_USER_INPUT",
      "A password cannot be an ascending or descending run of digits.",
      { field },
    );
  }
}
