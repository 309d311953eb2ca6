import type { Db } from "mongodb";
import { describe, expect, it } from "vitest";
import { stubMajorityReads, useFindRecorder } from "../testing/majority-reads.js";
import { ensureIdempotencyIndexes, runIdempotent } from "./idempotency.js";

/**
 * A replayed transactional mutation answers from its first call's record in `idempotency_keys`:
 * read as a majority holds it. The primary's own data may hold that call's transaction before it
 * is replicated; answering from it, then a failover rolling it back, would report a change that
 * does not exist. A first call reads as before (one local read before its transaction).
 */
// Outside a transaction only: inside one, reads are of the transaction's snapshot.
const { client, finds, readConcerns } = useFindRecorder({ outsideTransactions: true });

const recordReads = (from: number) => readConcerns("idempotency_keys", from);

/**
 * A fresh database; `majorityLacksRecords` makes its majority reads of `idempotency_keys` find
 * nothing (the primary holds the records, not replicated yet) until turned off.
 */
async function freshDb() {
  const real = client().db(`idempotency_majority_${Math.random().toString(36).slice(2, 10)}`);
  await ensureIdempotencyIndexes(real);
  const lacking = { records: false };
  const db = new Proxy(real, {
    get: (target, property, receiver) =>
      property === "collection"
        ? (name: string) => {
            const collection = target.collection(name);
            if (name !== "idempotency_keys") return collection;
            stubMajorityReads(collection, null, () => lacking.records);
            return collection;
          }
        : Reflect.get(target, property, receiver),
  }) as Db;
  const changes = real.collection<{ n: number }>("changes");
  const run = (n: number, key = "k-1") =>
    runIdempotent({
      db,
      channel: "COUNTER",
      key,
      operation: "addChange",
      input: { n },
      work: async (session) => {
        await changes.insertOne({ n }, { session });
        return { n };
      },
    });
  return { changes, run, lacking };
}

describe("a replayed transactional mutation answers from what a majority holds", () => {
  it("a first call reads its key once, locally; a replay answers from a read with read concern majority", async () => {
    const { changes, run } = await freshDb();
    let from = finds.length;
    expect(await run(1)).toEqual({ n: 1 });
    expect(recordReads(from)).toEqual(["local"]);
    from = finds.length;
    expect(await run(1)).toEqual({ n: 1 });
    expect(recordReads(from)).toEqual(["local", "majority"]);
    // Other input under the key: the CONFLICT too comes from the record a majority holds.
    from = finds.length;
    await expect(run(2)).rejects.toMatchObject({ code: "CONFLICT" });
    expect(recordReads(from)).toEqual(["local", "majority"]);
    expect(await changes.countDocuments({})).toBe(1);
  });

  it("a record the primary shows and a majority does not: SERVICE_UNAVAILABLE after a few reads, not an answer, and nothing run again", async () => {
    const { changes, run, lacking } = await freshDb();
    expect(await run(1)).toEqual({ n: 1 });
    lacking.records = true;
    await expect(run(1)).rejects.toMatchObject({ code: "SERVICE_UNAVAILABLE" });
    await expect(run(2)).rejects.toMatchObject({ code: "SERVICE_UNAVAILABLE" });
    expect(await changes.countDocuments({})).toBe(1);

    // Once a majority holds it, the replay answers.
    lacking.records = false;
    expect(await run(1)).toEqual({ n: 1 });
    expect(await changes.countDocuments({})).toBe(1);
  });
});
