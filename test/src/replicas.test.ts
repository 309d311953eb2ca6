import { connectMongo, type MongoClient } from "@hub/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startReplicaTopology, type ReplicaTopology } from "../../scripts/lib/replicas.js";
import { codeOf, personWithCard, run, runCardLife } from "./support/cards.js";
import { eventually } from "./support/eventually.js";
import { contractOperation, graphql, TEST_SECRET, token } from "./support/hub.js";

let topology: ReplicaTopology;
let client: MongoClient;
beforeAll(async () => {
  topology = await startReplicaTopology({
    secret: TEST_SECRET,
    mongoUri: process.env["TEST_MONGODB_URI"],
    dbPrefix: `r${Date.now().toString(36)}`,
  });
  client = await connectMongo(topology.mongoUri);
}, 180_000);
afterAll(async () => {
  await client?.close();
  await topology?.stop();
}, 60_000);

const db = (name: string) => client.db(`${topology.dbPrefix}_${name}`);

describe("two gateways and two replicas of each subgraph behind HAProxy", () => {
  it("answers reads and every mutation; effects cross subgraphs; replays and races behave as on one process", async () => {
    const url = topology.url;
    const person = topology.demo!.persons[0]!;
    const read = await graphql(
      url,
      await contractOperation("PersonCards"),
      { idNumber: person.idNumber },
      await token(),
    );
    expect(read.errors).toBeUndefined();

    const { cardId, personId } = await personWithCard(url);
    await runCardLife(url, { cardId, personId });
    // A replay goes round robin to the other gateway and subgraph replica: the same answer.
    const first = await run(url, "CancelCard", {
      cardId,
      reason: "moved",
      idempotencyKey: "rep-c",
    });
    const again = await run(url, "CancelCard", {
      cardId,
      reason: "moved",
      idempotencyKey: "rep-c",
    });
    expect(first.errors).toBeUndefined();
    expect(again).toEqual(first);
    // The bank heard of the cancellation before the answer (whichever replicas carried it).
    expect(first.data).toMatchObject({
      cancelCard: { card: { bankAccount: { status: "CANCELLATION_REQUIRED" } } },
    });
    const closed = await run(
      url,
      "CancelBankAccount",
      { cardId, idempotencyKey: "rep-b" },
      "BANK_COUNTER",
    );
    expect(closed.errors).toBeUndefined();
    expect(closed.data).toMatchObject({
      cancelBankAccount: { bankAccount: { status: "CANCELLED" } },
    });

    const other = await personWithCard(url);
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        run(url, "ReplaceCard", {
          cardId: other.cardId,
          reason: "LOST",
          idempotencyKey: "rep-one",
        }),
      ),
    );
    for (const answer of answers) expect(answer).toEqual(answers[0]);
    expect(await db("cards").collection("cards").countDocuments({ personId: other.personId })).toBe(
      2,
    );
  }, 60_000);

  it("faults under load: a gateway and a replica of each subgraph stopped (SIGTERM, then SIGKILL): the survivors carry on, no effect lost or applied twice", async () => {
    const url = topology.url;
    const cards = await Promise.all(Array.from({ length: 4 }, () => personWithCard(url)));
    for (const { cardId } of cards) await run(url, "CollectCard", { cardId });
    const bearer = await token();
    const counts = {
      served: 0,
      failed: 0,
      changes: new Map<string, number>(),
      /** Changes whose answer was lost: applied or not, the client cannot know. */
      unknown: new Map<string, number>(),
      reasons: [] as string[],
    };
    const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
    let stopping = false;
    const statusOf = async (cardId: string) =>
      (
        await db("cards")
          .collection<{ _id: string; status: string }>("cards")
          .findOne({ _id: cardId })
      )?.status;
    const worker = async (cardId: string) => {
      let lost = false;
      for (let i = 0; !stopping; i++) {
        const [operation, input] = lost
          ? (["WithdrawLossReport", { cardId }] as const)
          : (["ReportCardLoss", { cardId, temporary: true }] as const);
        try {
          const answer = await run(url, operation, input).catch(() => null);
          if (!answer || answer.errors) {
            counts.failed += 1;
            counts.reasons.push(`${operation} ${String(answer ? codeOf(answer) : "no answer")}`);
            bump(counts.unknown, cardId);
            // Whether it applied is unknown to the client: it reads the card, as a counter would.
            lost = (await statusOf(cardId)) === "TEMPORARY_LOSS";
          } else {
            counts.served += 1;
            bump(counts.changes, cardId);
            lost = !lost;
          }
          const person = topology.demo!.persons[i % topology.demo!.persons.length]!;
          const reading = await graphql(
            url,
            await contractOperation("PersonCards"),
            { idNumber: person.idNumber },
            bearer,
          );
          if (reading.errors) {
            counts.failed += 1;
            counts.reasons.push(`PersonCards ${String(codeOf(reading))}`);
          } else counts.served += 1;
        } catch {
          counts.failed += 1;
        }
      }
    };
    const load = Promise.all(cards.map((c) => worker(c.cardId)));
    const byName = (name: string) => topology.replicas.find((r) => r.name === name)!.child;
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    for (const name of ["gateway-1", "persons-1", "cards-1"]) byName(name).kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    for (const name of ["passwords-1", "bank-accounts-1"]) byName(name).kill("SIGKILL");
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    stopping = true;
    await load;
    console.log(
      `fault run: ${counts.served} requests served, ${counts.failed} failed (${counts.reasons.join(", ")})`,
    );
    expect(counts.served).toBeGreaterThan(100);
    // Only what was in flight on a killed process may fail: at most one request per client at
    // each of the two moments processes are stopped.
    expect(counts.failed).toBeLessThanOrEqual(2 * cards.length);

    // Delivered once the receivers that are left have them (a delivery in flight on a killed
    // replica is retried by the relay).
    await eventually(async () => {
      const pending = await Promise.all(
        ["persons", "cards", "passwords", "bank_accounts"].map((name) =>
          db(name).collection("outbox").countDocuments({}),
        ),
      );
      expect(pending).toEqual([0, 0, 0, 0]);
    }, 20_000);
    // Every card change reached the bank, once: its mirror of the card is the card as it is, and
    // the card's history holds the changes that answered OK (plus, at most, those whose answer was
    // lost with a killed process).
    for (const { cardId } of cards) {
      const card = await db("cards")
        .collection<{ _id: string; status: string; history: unknown[]; archivedHistory?: number }>(
          "cards",
        )
        .findOne({ _id: cardId });
      const account = await db("bank_accounts")
        .collection<{ card: { status: string } }>("bank_accounts")
        .findOne({ cardId });
      expect(account!.card.status, cardId).toBe(card!.status);
      const entries = card!.history.length + (card!.archivedHistory ?? 0);
      const extra = entries - 2 - (counts.changes.get(cardId) ?? 0);
      expect(extra, cardId).toBeGreaterThanOrEqual(0);
      expect(extra, cardId).toBeLessThanOrEqual(counts.unknown.get(cardId) ?? 0);
    }
  }, 90_000);
});
