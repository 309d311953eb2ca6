/** Channels through which front-ends reach the hub (DOMAIN.md "Channels", CONTRACT.md). */
export const CHANNELS = [
  "COUNTER",
  "BANK_COUNTER",
  "HOSPITAL",
  "PHARMACY",
  "PHONE_12333",
  "WEBSITE",
  "APP",
  "WECHAT",
  "ALIPAY",
  "SELF_SERVICE",
  "GRASSROOTS",
  "NATIONAL_PLATFORM",
  "DOOR_TO_DOOR",
] as const;

export type Channel = (typeof CHANNELS)[number];

export function isChannel(value: unknown): value is Channel {
  return typeof value === "string" && (CHANNELS as readonly string[]).includes(value);
}

/** Analyst-facing descriptions, shared by every subgraph that exposes the Channel enum. */
export const CHANNEL_DESCRIPTIONS: Record<Channel, string> = {
  COUNTER: "Social security service institution counter (in person).",
  BANK_COUNTER: "Outlet of the card's partner bank (in person).",
  HOSPITAL: "Designated hospital (first outpatient or inpatient registration).",
  PHARMACY: "Designated pharmacy (first purchase).",
  PHONE_12333: "The 12333 social security telephone service.",
  WEBSITE: "The official social security website.",
  APP: "The official social security mobile app.",
  WECHAT: "WeChat official account or mini-program.",
  ALIPAY: "Alipay mini-program.",
  SELF_SERVICE: "Self-service machine.",
  GRASSROOTS: "Grassroots (community or township) service platform.",
  NATIONAL_PLATFORM: "National social insurance public service platform.",
  DOOR_TO_DOOR: "Door-to-door service for the elderly, seriously ill or disabled.",
};
