import { readSettings } from "@hub/kit";
import { z } from "zod";

/** The passwords subgraph's own settings (besides every subgraph's, kit `subgraphEnv`). */
export const passwordsEnv = z.object({
  /**
   * The initial social security password of a new card is a deployment setting (each province
   * issues its own; R-PWD-2 says only that a new card has one).
   */
  HUB_INITIAL_CARD_PASSWORD: z
    .string()
    .regex(/^\d{6}$/, "must be 6 digits")
    .default("123456"),
});

/** HUB_INITIAL_CARD_PASSWORD, read once at start. */
export function initialCardPassword(env: NodeJS.ProcessEnv = process.env): string {
  return readSettings(passwordsEnv, env).HUB_INITIAL_CARD_PASSWORD;
}
