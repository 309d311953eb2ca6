import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CHANNELS, type Channel } from "../channels.js";
import { HubError } from "../errors.js";
import {
  CHANNEL_POLICY,
  isChannelAllowed,
  requireChannel,
  type PolicyOperation,
} from "./channel-policy.js";

const contract = readFileSync(new URL("../../../../docs/contract.md", import.meta.url), "utf8");

/**
 * The contract's "Channels and what each may do" table, keyed as the policy is: an operation, or
 * `operation:flag` for a row's "(`flag: true` only at …)" restriction (`reportCardLoss (formal)`
 * → `reportCardLoss:formal`). The expectations come from the contract's text, never from the
 * policy's own table, so a wrong entry in the policy fails here.
 */
function contractTable(): Map<string, string[]> {
  const section = /^## Channels and what each may do.*$([\s\S]*?)^## /m.exec(contract)?.[1];
  if (!section) throw new Error("docs/contract.md has no channel section");
  const table = new Map<string, string[]>();
  const list = (cell: string) => cell.split(",").map((name) => name.trim());
  for (const row of section.split("\n").filter((line) => line.startsWith("| "))) {
    const [operations, channels] = row
      .slice(1, -1)
      .split("|")
      .map((cell) => cell.trim()) as [string, string];
    if (operations === "operation" || operations === "every query") continue;
    const restriction = /^(.*?)\s*\(`(\w+): true` only at ([^)]*)\)$/.exec(channels);
    for (const operation of list(operations)) {
      const key = operation.replace(/ \((\w+)\)$/, ":$1");
      table.set(key, list(restriction ? restriction[1]! : channels));
      if (restriction) table.set(`${key}:${restriction[2]!}`, list(restriction[3]!));
    }
  }
  return table;
}

const operations = Object.keys(CHANNEL_POLICY) as PolicyOperation[];

function refusal(operation: PolicyOperation, channel: Channel): HubError {
  try {
    requireChannel(operation, channel);
  } catch (error) {
    if (error instanceof HubError) return error;
    throw error;
  }
  throw new Error(`${channel} was allowed to ${operation}`);
}

describe("the channel policy is the contract's table", () => {
  it("has a row for every operation of the contract, with its channels, and no other", () => {
    const table = contractTable();
    expect(table.size).toBeGreaterThan(15);
    const sorted = (channels: readonly string[]) => [...channels].sort();
    expect(Object.fromEntries(operations.map((op) => [op, sorted(CHANNEL_POLICY[op])]))).toEqual(
      Object.fromEntries([...table].map(([op, channels]) => [op, sorted(channels)])),
    );
  });

  it("allows exactly the channels of an operation's row, for every operation and channel", () => {
    const table = contractTable();
    for (const operation of operations)
      for (const channel of CHANNELS)
        expect(isChannelAllowed(operation, channel), `${channel} ${operation}`).toBe(
          table.get(operation)!.includes(channel),
        );
  });
});

describe("requireChannel", () => {
  it("lets an allowed channel through", () => {
    for (const operation of operations)
      for (const channel of CHANNEL_POLICY[operation])
        expect(() => requireChannel(operation, channel)).not.toThrow();
  });

  it("refuses any other with CHANNEL_NOT_ALLOWED, naming the channel, the operation and the allowed channels", () => {
    const error = refusal("withdrawLossReport", "APP");
    expect(error.code).toBe("CHANNEL_NOT_ALLOWED");
    expect(error.message).toBe(
      "The APP channel may not withdrawLossReport. Allowed channels: COUNTER, BANK_COUNTER.",
    );
    expect(error.extensions["allowedChannels"]).toEqual(["COUNTER", "BANK_COUNTER"]);
  });

  it("names an input-dependent row as the operation with its input in parentheses", () => {
    expect(refusal("reportCardLoss:formal", "WECHAT").message).toBe(
      "The WECHAT channel may not reportCardLoss (formal). Allowed channels: COUNTER, BANK_COUNTER.",
    );
    expect(refusal("cancelCard", "BANK_COUNTER").message).toBe(
      "The BANK_COUNTER channel may not cancelCard. Allowed channels: COUNTER.",
    );
  });

  it("says why, where the rule book does, instead of listing the channels", () => {
    expect(refusal("activateFinancialFunction", "COUNTER").message).toBe(
      "The COUNTER channel may not activateFinancialFunction. The financial function must be activated in person at a counter of the card's partner bank (door-to-door service for the elderly, seriously ill or disabled) (R-BANK-1).",
    );
    expect(refusal("cancelBankAccount", "COUNTER").message).toBe(
      "The COUNTER channel may not cancelBankAccount. A bank account is cancelled over the counter at the partner bank (R-BANK-3).",
    );
    expect(refusal("resetCardPassword", "APP").message).toBe(
      "The APP channel may not resetCardPassword. A locked password is reset only in person at a service institution or on the official website (R-PWD-3).",
    );
    const instant = refusal("replaceCard:instant", "WEBSITE");
    expect(instant.message).toBe(
      "The WEBSITE channel may not replaceCard (instant). Instant issuance is only possible at a service counter or a bank counter.",
    );
    expect(instant.extensions["allowedChannels"]).toEqual(["COUNTER", "BANK_COUNTER"]);
  });

  it("hands out a copy of the allowed channels, never the policy's own list", () => {
    const allowed = refusal("cancelCard", "APP").extensions["allowedChannels"] as Channel[];
    allowed.push("APP");
    expect(isChannelAllowed("cancelCard", "APP")).toBe(false);
  });
});
