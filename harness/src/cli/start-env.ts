import { z } from "zod";

/**
 * What only `npm start` reads (the processes it starts read their own settings, passed on from
 * the same environment): whether to seed the demo data.
 */
export const startEnv = z.object({
  /** `off`: no demo data (an empty hub, or one whose MONGODB_URI already holds data). */
  HUB_SEED: z.enum(["on", "off"]).default("on"),
});
