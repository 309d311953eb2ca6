/**
 * R-ID-1: the social security number is the 18-character citizen identity number (GB 11643):
 * 6-digit region code (first two digits: GB/T 2260 province), 8-digit birth date, 3-digit
 * sequence (odd for men, even for women), and an ISO 7064 MOD 11-2 check character (0-9 or X).
 */

/** GB/T 2260 province-level codes. */
export const PROVINCE_CODES: ReadonlySet<string> = new Set([
  "11",
  "12",
  "13",
  "14",
  "15",
  "21",
  "22",
  "23",
  "31",
  "32",
  "33",
  "34",
  "35",
  "36",
  "37",
  "41",
  "42",
  "43",
  "44",
  "45",
  "46",
  "50",
  "51",
  "52",
  "53",
  "54",
  "61",
  "62",
  "63",
  "64",
  "65",
  "71",
  "81",
  "82",
]);

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARACTERS = "10X98765432";

/** The ISO 7064 MOD 11-2 check character of the first 17 digits. */
export function checkCharacter(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * (WEIGHTS[i] ?? 0);
  return CHECK_CHARACTERS[sum % 11] ?? "";
}

export type IdNumberCheck =
  | { valid: true; idNumber: string; province: string; birthDate: string; sex: "MALE" | "FEMALE" }
  | { valid: false; reason: string };

/** Validates and normalises (lower-case `x` → `X`, surrounding spaces dropped). */
export function checkIdNumber(input: string, today: Date = new Date()): IdNumberCheck {
  const idNumber = input.trim().toUpperCase();
  if (!/^\d{17}[\dX]$/.test(idNumber)) {
    return { valid: false, reason: "An identity number has 17 digits followed by a digit or X." };
  }
  const province = idNumber.slice(0, 2);
  if (!PROVINCE_CODES.has(province)) {
    return { valid: false, reason: `"${province}" is not a province code.` };
  }
  const year = Number(idNumber.slice(6, 10));
  const month = Number(idNumber.slice(10, 12));
  const day = Number(idNumber.slice(12, 14));
  const birth = new Date(Date.UTC(year, month - 1, day));
  if (
    year < 1900 ||
    birth.getUTCFullYear() !== year ||
    birth.getUTCMonth() !== month - 1 ||
    birth.getUTCDate() !== day ||
    birth.getTime() > today.getTime()
  ) {
    return {
      valid: false,
      reason: "The birth date part of the identity number is not a valid date.",
    };
  }
  if (checkCharacter(idNumber.slice(0, 17)) !== idNumber[17]) {
    return { valid: false, reason: "The check character of the identity number is wrong." };
  }
  return {
    valid: true,
    idNumber,
    province,
    birthDate: idNumber.slice(6, 14),
    sex: Number(idNumber[16]) % 2 === 1 ? "MALE" : "FEMALE",
  };
}

/** Builds a valid identity number (demo data and tests). */
export function composeIdNumber(region: string, birthDate: string, sequence: number): string {
  const first17 = `${region}${birthDate}${String(sequence).padStart(3, "0")}`;
  return first17 + checkCharacter(first17);
}
