import { stubMajorityReads, useFindRecorder } from "@hub/kit/testing";
import { describe, expect, it } from "vitest";
import {
  issuePlan,
  issueStoppedAfterClaim as stoppedAfterClaim,
  metaFor,
} from "../testing/card-fixtures.js";

/**
 * A claim is cleared (the claim sweep) or replaced (the person's next issue) once its card is
 * stored: that the card is stored is read as a majority holds it. A card another writer inserted
 * on the primary alone may be rolled back by a failover; a claim let go on a local read of it
 * would lose the card and its CardIssued.
 */
const { client, readConcernsDuring } = useFindRecorder();

/** The read concern of each find of a card by its id (storing a claim's card) while `run` runs. */
const cardReadsDuring = (run: () => Promise<unknown>) =>
  readConcernsDuring("cards", run, (filter) => "_id" in filter);

/** p_1's issue whose process stopped right after its claim (the card only in the claim). */
const issueStoppedAfterClaim = () => stoppedAfterClaim(client(), "claim_majority");

describe("a claim is let go only once a majority holds its card", () => {
  it("reads the claimed card with read concern majority: the sweep storing it and clearing claims, an issue storing its own and finding another's", async () => {
    const { registry, commands } = await issueStoppedAfterClaim();
    const levels: string[] = [];
    // The sweep stores the stranded card, and clears its claim.
    levels.push(...(await cardReadsDuring(() => commands.completeStrandedClaims(0))));
    expect((await registry.find("p_1"))!.issuing).toBeNull();
    // An issue stores its own card; the person's next issue finds it stored (the claim stays
    // until then), and the sweep clears the claim of the last one.
    levels.push(
      ...(await cardReadsDuring(() => commands.issue(metaFor("issueCard"), issuePlan("p_2")))),
      ...(await cardReadsDuring(() =>
        commands.issue(metaFor("issueCard"), issuePlan("p_2", "51")),
      )),
      ...(await cardReadsDuring(() => commands.completeStrandedClaims(0))),
    );
    expect((await registry.find("p_2"))!.issuing).toBeNull();
    expect(levels.length).toBeGreaterThanOrEqual(4);
    expect(levels).toEqual(levels.map(() => "majority"));
  });

  it("a card the primary shows and a majority does not: the claim stays, for the sweep and for the person's next issue (SERVICE_UNAVAILABLE)", async () => {
    const { cards, registry, commands, claim } = await issueStoppedAfterClaim();
    // The stopped writer got as far as its number and its card, on the primary alone.
    await cards.cardNumbers.insertOne({
      _id: `${claim.province}:${claim.number}`,
      cardId: claim._id,
      at: new Date(),
    });
    await cards.cards.insertOne(claim);
    // The primary holds the cards, a majority read finds none of them (not replicated yet).
    const restore = stubMajorityReads(cards.cards);
    await expect(commands.completeStrandedClaims(0)).rejects.toMatchObject({
      code: "SERVICE_UNAVAILABLE",
    });
    expect((await registry.find("p_1"))!.issuing?.card._id).toBe(claim._id);
    await expect(
      commands.issue(metaFor("issueCard"), issuePlan("p_1", "51")),
    ).rejects.toMatchObject({ code: "SERVICE_UNAVAILABLE" });
    // Not let go: were the card rolled back, the claim would still store it. Nor renumbered
    // (the duplicate key was the card's own id, not another card's number): its number stays
    // reserved for it.
    expect((await registry.find("p_1"))!.issuing?.card).toMatchObject({
      _id: claim._id,
      number: claim.number,
    });
    expect(
      await cards.cardNumbers.findOne({ _id: `${claim.province}:${claim.number}` }),
    ).toMatchObject({ cardId: claim._id });

    // Once a majority holds the card, the sweep clears the claim.
    restore();
    await commands.completeStrandedClaims(0);
    expect((await registry.find("p_1"))!.issuing).toBeNull();
    expect(await cards.cards.countDocuments({ personId: "p_1" })).toBe(1);
  });
});
