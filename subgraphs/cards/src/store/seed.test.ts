import { EffectScope } from "@hub/kit";
import { useTestMongo } from "@hub/kit/testing";
import { describe, expect, it } from "vitest";
import { at, freshCards, issuePlan, metaFor } from "../testing/card-fixtures.js";
import type { CardDocument } from "./card-document.js";
import { seedCards } from "./seed.js";

const client = useTestMongo();

describe("demo seeding", () => {
  it("reserves the seeded cards' numbers (an issue draws again) and registers persons whose lock came first", async () => {
    const { db, cards, registry, commands, handlers } = await freshCards(client(), "seed", [
      "A00000001",
      "B00000002",
    ]);
    await handlers.ElectronicPasswordLocked(
      {
        id: "e-lock",
        type: "ElectronicPasswordLocked",
        payload: { personId: "p_2", lockedUntil: "2026-12-02T00:00:00.000Z" },
        actor: "t",
        channel: "APP",
        occurredAt: at.toISOString(),
        source: "test",
      },
      new EffectScope(),
    );
    const seeded = {
      _id: "c_seeded",
      personId: "p_1",
      number: "A00000001",
      province: "44",
      issuedAt: at,
    } as CardDocument;
    expect(await seedCards(db, [seeded], [], ["p_1", "p_2"])).toBe(1);
    expect(await seedCards(db, [seeded], [], ["p_1", "p_2"])).toBe(0);
    expect(await registry.find("p_2")).toMatchObject({
      at: new Date(0),
      electronicPasswordLockedUntil: new Date("2026-12-02T00:00:00Z"),
    });
    const { cardId } = await commands.issue(metaFor("issueCard"), issuePlan("p_2"));
    expect((await cards.cards.findOne({ _id: cardId }))?.number).toBe("B00000002");
  });
});
