import type { Channel } from "../channels.js";
import { HubError } from "../errors.js";

/**
 * CONTRACT.md "Channels and what each may do", declared once. Keys are operations, with a suffix
 * where the input changes what is allowed (a formal loss report, instant issuance).
 */
export const CHANNEL_POLICY = {
  registerPerson: ["COUNTER", "NATIONAL_PLATFORM"],
  issueCard: ["COUNTER", "NATIONAL_PLATFORM"],
  collectCard: ["COUNTER", "BANK_COUNTER", "GRASSROOTS"],
  enableSocialSecurityFunction: [
    "COUNTER",
    "BANK_COUNTER",
    "HOSPITAL",
    "PHARMACY",
    "PHONE_12333",
    "WEBSITE",
    "APP",
    "WECHAT",
    "ALIPAY",
    "GRASSROOTS",
  ],
  "reportCardLoss:temporary": [
    "COUNTER",
    "BANK_COUNTER",
    "PHONE_12333",
    "WEBSITE",
    "APP",
    "WECHAT",
    "ALIPAY",
    "NATIONAL_PLATFORM",
  ],
  "reportCardLoss:formal": ["COUNTER", "BANK_COUNTER"],
  withdrawLossReport: ["COUNTER", "BANK_COUNTER"],
  cancelCard: ["COUNTER"],
  replaceCard: ["COUNTER", "BANK_COUNTER", "WEBSITE", "APP", "NATIONAL_PLATFORM"],
  "replaceCard:instant": ["COUNTER", "BANK_COUNTER"],
  issueElectronicCard: ["APP", "WECHAT", "ALIPAY", "NATIONAL_PLATFORM"],
  setElectronicCardPassword: ["APP", "WECHAT", "ALIPAY", "NATIONAL_PLATFORM"],
  verifyElectronicCardPassword: ["APP", "WECHAT", "ALIPAY", "NATIONAL_PLATFORM"],
  verifyCardPassword: ["COUNTER", "BANK_COUNTER", "HOSPITAL", "PHARMACY", "SELF_SERVICE"],
  changeCardPassword: ["COUNTER", "SELF_SERVICE", "HOSPITAL", "PHARMACY", "WEBSITE"],
  resetCardPassword: ["COUNTER", "WEBSITE"],
  activateFinancialFunction: ["BANK_COUNTER", "DOOR_TO_DOOR"],
  cancelBankAccount: ["BANK_COUNTER"],
} as const satisfies Record<string, readonly Channel[]>;

export type PolicyOperation = keyof typeof CHANNEL_POLICY;

/** Why a channel may not do something, where the contract or the rule book says more. */
const REASONS: Partial<Record<PolicyOperation, string>> = {
  activateFinancialFunction:
    "The financial function must be activated in person at a counter of the card's partner bank (door-to-door service for the elderly, seriously ill or disabled) (R-BANK-1).",
  cancelBankAccount: "A bank account is cancelled over the counter at the partner bank (R-BANK-3).",
  resetCardPassword:
    "A locked password is reset only in person at a service institution or on the official website (R-PWD-3).",
  "replaceCard:instant":
    "Instant issuance is only possible at a service counter or a bank counter.",
};

export function isChannelAllowed(operation: PolicyOperation, channel: Channel): boolean {
  return (CHANNEL_POLICY[operation] as readonly Channel[]).includes(channel);
}

/** Throws CHANNEL_NOT_ALLOWED, naming the operation, the channel and the allowed channels. */
export function requireChannel(operation: PolicyOperation, channel: Channel): void {
  if (isChannelAllowed(operation, channel)) return;
  const allowed = CHANNEL_POLICY[operation].join(", ");
  const reason = REASONS[operation] ?? `Allowed channels: ${allowed}.`;
  throw new HubError(
    "CHANNEL_NOT_ALLOWED",
    `The ${channel} channel may not ${operation.replace(":", " (")}${operation.includes(":") ? ")" : ""}. ${reason}`,
    { allowedChannels: [...CHANNEL_POLICY[operation]] },
  );
}
