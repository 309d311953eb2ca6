/**
 * The initial social security password of a new card is a deployment setting (each province
 * issues its own; R-PWD-2 says only that a new card has one):
 * HUB_INITIAL_CARD_PASSWORD, 6 digits, default 123456. It is read here once.
 */
export function initialCardPassword(env = process.env): string {
  const value = env["HUB_INITIAL_CARD_PASSWORD"] ?? "123456";
  if (!/^\d{6}$/.test(value))
    throw new Error("Invalid configuration: HUB_INITIAL_CARD_PASSWORD: must be 6 digits");
  return value;
}
