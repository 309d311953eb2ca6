/**
 * R-ID-3: identity numbers, bank account numbers and phone numbers are personal information and
 * are shown masked unless the caller holds `pii:read`. The hub keeps a fixed number of characters
 * visible at each end so that an operator can still match a number a person reads out.
 */
function maskMiddle(value: string, keepStart: number, keepEnd: number): string {
  if (value.length <= keepStart + keepEnd) return "*".repeat(value.length);
  return (
    value.slice(0, keepStart) +
    "*".repeat(value.length - keepStart - keepEnd) +
    value.slice(value.length - keepEnd)
  );
}

/** `110105199001011234` → `1101**********1234` (CONTRACT.md example). */
export const maskIdNumber = (value: string): string => maskMiddle(value, 4, 4);

/** `6222021234567890123` → `6222***********0123`. */
export const maskAccountNumber = (value: string): string => maskMiddle(value, 4, 4);

/** `13812345678` → `138****5678`. */
export const maskPhone = (value: string): string => maskMiddle(value, 3, 4);
