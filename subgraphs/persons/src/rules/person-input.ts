import { checkIdNumber, checkPersonName, HubError } from "@hub/kit";

export interface ValidPersonInput {
  idNumber: string;
  name: string;
  phone: string | null;
}

/** Checks a registration: a valid identity number (R-ID-1), a plausible name and phone. */
export function validatePersonInput(
  input: { idNumber: string; name: string; phone?: string | null },
  today: Date,
): ValidPersonInput {
  const id = checkIdNumber(input.idNumber, today);
  if (!id.valid) throw new HubError("INVALID_ID_NUMBER", id.reason);
  const name = checkPersonName(input.name);
  const phone = input.phone?.replace(/[\s-]/g, "") || null;
  if (phone !== null && !/^1\d{10}$/.test(phone))
    throw new HubError("BAD_USER_INPUT", "A phone number is an 11-digit mainland mobile number.");
  return { idNumber: id.idNumber, name, phone };
}
