import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";

/** R-PWD-6: salted, slow hashes only. Parameters are stored with each hash so they can be raised. */
const PARAMS = { N: 16_384, r: 8, p: 1, keyLength: 32 };

function scryptAsync(
  password: string,
  salt: Buffer,
  keyLength: number,
  options: ScryptOptions,
): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, keyLength, options, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, PARAMS.keyLength, {
    N: PARAMS.N,
    r: PARAMS.r,
    p: PARAMS.p,
  });
  return `scrypt$${PARAMS.N}$${PARAMS.r}$${PARAMS.p}$${salt.toString("base64")}$${key.toString("base64")}`;
}

/** Constant-time comparison; a malformed stored hash never matches. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = stored.split("$");
  if (scheme !== "scrypt" || !n || !r || !p || !salt || !key) return false;
  const expected = Buffer.from(key, "base64");
  const actual = await scryptAsync(password, Buffer.from(salt, "base64"), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
  });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/**
 * Whether `password` is the deployment's initial password, for a card that never had its own:
 * compared in constant time with the setting itself. Hashing a value every deployment knows
 * protects nothing, and scrypt costs ~40 ms of CPU per entry (measured: a third of a core under
 * the bench's write load); a card with its own password is always checked against its hash.
 */
export function isInitialPassword(password: string, initial: string): boolean {
  const given = Buffer.from(password);
  const expected = Buffer.from(initial);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
