import type { Collection, Document } from "mongodb";
import { describe, expect, it } from "vitest";
import type { CarriedEvents } from "../events/outbox-document.js";
import { Outbox } from "../events/outbox.js";
import { newEvent } from "../testing/events.js";
import { stubMajorityReads, useFindRecorder } from "../testing/majority-reads.js";
import { changeOneDocument } from "./change-document.js";
import { documentKey, type KeyRecord } from "./document-keys.js";

/**
 * A replay of a one-document change answers from the key record its first call left in the
 * document: read as a majority holds the document. The primary's own data may hold the first
 * call's write before it is replicated; answering "done" from it, then a failover rolling it
 * back, would report a change that does not exist. A first call reads as before (one local read).
 */
const { client, finds, readConcerns } = useFindRecorder();

interface Thing extends CarriedEvents {
  _id: string;
  version: number;
  n: number;
  keys?: KeyRecord[];
}

const thingReads = (from: number) => readConcerns("things", from);

async function oneThing() {
  const db = client().db(`change_majority_${Math.random().toString(36).slice(2, 10)}`);
  const outbox = new Outbox(db, "persons");
  const things = db.collection<Thing>("things");
  outbox.carriedIn(things as unknown as Collection<Document>);
  await outbox.ensureIndexes();
  await things.insertOne({ _id: "t1", version: 1, n: 0 });
  const write = (n: number, key = "k-1") =>
    changeOneDocument<Thing, { n: number }>({
      collection: things,
      outbox,
      effects: null,
      filter: { _id: "t1" },
      key: documentKey("COUNTER", "setN", key, { n }),
      notFound: () => new Error("no thing"),
      decide: () => ({
        result: { n },
        set: { n },
        events: [newEvent("PersonRegistered", { personId: `p${n}` })],
      }),
    });
  return { things, write };
}

describe("a replayed one-document change answers from what a majority holds", () => {
  it("a first call reads once, locally; a replay answers from a read with read concern majority", async () => {
    const { write } = await oneThing();
    let from = finds.length;
    expect(await write(1)).toEqual({ n: 1 });
    expect(thingReads(from)).toEqual(["local"]);
    from = finds.length;
    expect(await write(1)).toEqual({ n: 1 });
    expect(thingReads(from)).toEqual(["local", "majority"]);
    // Other input under the key: the CONFLICT too comes from the record a majority holds.
    from = finds.length;
    await expect(write(2)).rejects.toMatchObject({ code: "CONFLICT" });
    expect(thingReads(from)).toEqual(["local", "majority"]);
  });

  it("a record the primary shows and a majority does not: SERVICE_UNAVAILABLE after a few reads, not an answer, and nothing written again", async () => {
    const { things, write } = await oneThing();
    const before = await things.findOne({ _id: "t1" });
    expect(await write(1)).toEqual({ n: 1 });
    // The primary holds `things` as they are now; a majority read shows them as `before`.
    const restore = stubMajorityReads(things, before);
    await expect(write(1)).rejects.toMatchObject({ code: "SERVICE_UNAVAILABLE" });
    await expect(write(2)).rejects.toMatchObject({ code: "SERVICE_UNAVAILABLE" });
    expect(await things.findOne({ _id: "t1" })).toMatchObject({ version: 2, n: 1 });

    // Once a majority holds it, the replay answers.
    restore();
    expect(await write(1)).toEqual({ n: 1 });
    expect(await things.findOne({ _id: "t1" })).toMatchObject({ version: 2, n: 1 });
  });
});
