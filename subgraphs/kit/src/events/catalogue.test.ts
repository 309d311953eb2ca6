import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { EVENT_CATALOGUE, destinationsOf, typesReceivedBy, type EventType } from "./catalogue.js";

const doc = readFileSync(new URL("../../../../docs/events.md", import.meta.url), "utf8");

/** docs/events.md's flows: `producer → receivers: \`Event\` …, \`Event\` …` per list item. */
function flowsInDocs(): Map<string, { producer: string; receivers: string[] }> {
  const block = doc.split("## The flows")[1]!.split("\n## ")[0]!;
  const items = block.split(/\n- /).slice(1);
  const flows = new Map<string, { producer: string; receivers: string[] }>();
  for (const item of items) {
    const match = /^([a-z-]+) → ([a-z, -]+):/.exec(item);
    if (!match) continue;
    const receivers = match[2]!.split(",").map((r) => r.trim());
    // Event names are the backticked words starting with a capital and ending in a past participle.
    for (const [, name] of item.matchAll(/`([A-Z][A-Za-z]+)`/g))
      if (!/^[A-Z_]+$/.test(name!)) flows.set(name!, { producer: match[1]!, receivers });
  }
  return flows;
}

describe("the event catalogue", () => {
  it("docs/events.md lists exactly the catalogue's events with their producers and receivers", () => {
    const listed = flowsInDocs();
    const catalogued = new Map(
      (Object.keys(EVENT_CATALOGUE) as EventType[]).map((type) => [
        type,
        {
          producer: EVENT_CATALOGUE[type].producer as string,
          receivers: [...EVENT_CATALOGUE[type].receivers].sort(),
        },
      ]),
    );
    expect(
      new Map(
        [...listed].map(([type, flow]) => [type, { ...flow, receivers: flow.receivers.sort() }]),
      ),
    ).toEqual(catalogued);
  });

  it("gives each subgraph the destinations and received types its producers and receivers imply", () => {
    expect(destinationsOf("persons").sort()).toEqual(["cards", "passwords"]);
    expect(destinationsOf("cards").sort()).toEqual(["bank-accounts", "feed", "passwords"]);
    // The bank's and passwords' events about a card reach the feed through cards, in the card's
    // order (docs/feed.md "Per-card order"); a person's electronic-password lock directly.
    expect(destinationsOf("bank-accounts").sort()).toEqual(["cards"]);
    expect(destinationsOf("passwords").sort()).toEqual(["cards", "feed"]);
    expect(destinationsOf("feed")).toEqual([]);
    expect(typesReceivedBy("persons")).toEqual([]);
    expect(typesReceivedBy("bank-accounts").sort()).toEqual(["CardIssued", "CardStatusChanged"]);
    // The status-change feed hears of every change of a card, its passwords and its account:
    // the card's from cards, its password's and account's passed on by cards.
    expect(typesReceivedBy("feed").sort()).toEqual([
      "CardIssued",
      "CardStatusChanged",
      "CardUpdated",
      "ElectronicPasswordLocked",
      "ForwardedToFeed",
    ]);
    expect(typesReceivedBy("cards").sort()).toEqual([
      "BankAccountStatusChanged",
      "CardPasswordStateChanged",
      "ElectronicPasswordLocked",
      "FinancialFunctionActivated",
      "InitialPasswordChanged",
      "PersonRegistered",
    ]);
  });
});
