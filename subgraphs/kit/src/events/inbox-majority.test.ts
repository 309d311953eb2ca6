import type { Db } from "mongodb";
import { ObjectId } from "mongodb";
import { describe, expect, it } from "vitest";
import { receivedEvent } from "../testing/events.js";
import { useTestMongo } from "../testing/test-mongo.js";
import { Inbox } from "./inbox.js";

const client = useTestMongo();

/**
 * The receiver's database as a replica set shows it: `hello` names the primary and its election.
 * Here an election is made to happen between two `hello`s; everything else is the real database.
 */
function electedDb(name: string, elections: ObjectId[]): Db {
  const db = client().db(`${name}_${Date.now()}`);
  let asked = 0;
  const admin = {
    command: async () => ({
      isWritablePrimary: true,
      setName: "rs",
      hosts: ["rs-1:27017", "rs-2:27017", "rs-3:27017"],
      me: "rs-1:27017",
      electionId: elections[Math.min(asked++, elections.length - 1)],
    }),
  };
  return new Proxy(db, {
    get: (target, property, receiver) =>
      property === "admin" ? () => admin : Reflect.get(target, property, receiver),
  });
}

function inboxOn(db: Db, applied: string[]) {
  const noop = async () => undefined;
  return new Inbox(
    "passwords",
    {
      CardIssued: noop,
      CardStatusChanged: noop,
      PersonRegistered: async (event) => void applied.push(event.payload.personId),
    },
    db,
  );
}

const registration = (n: number) =>
  receivedEvent(`e${n}`, "PersonRegistered", { personId: `p${n}` });

describe("a receiver's answer and the primary it wrote to", () => {
  it("a one-member replica set has nothing to roll back: no mark, no election check", async () => {
    const applied: string[] = [];
    const db = client().db(`inbox_alone_${Date.now()}`);
    const result = await inboxOn(db, applied).applyBatch([registration(1)]);
    expect(result).toMatchObject({ applied: 1, failed: null });
    expect(await db.collection("inbox_marks").countDocuments({})).toBe(0);
  });

  it("answers once a majority holds the batch when one primary served it throughout", async () => {
    const term = new ObjectId();
    const applied: string[] = [];
    const db = electedDb("inbox_one_term", [term, term]);
    const result = await inboxOn(db, applied).applyBatch([registration(1), registration(2)]);
    expect(result).toMatchObject({ applied: 2, failed: null });
    expect(await db.collection("inbox_marks").findOne({ _id: "passwords" as never })).toEqual({
      _id: "passwords",
      applied: 2,
    });
  });

  it("an election during the batch is an error, so the sender keeps it and sends it again", async () => {
    const applied: string[] = [];
    // The first hello asks who the members are; the next two come before and after the batch.
    const before = new ObjectId();
    const db = electedDb("inbox_election", [before, before, new ObjectId()]);
    await expect(inboxOn(db, applied).applyBatch([registration(1)])).rejects.toThrow(
      /primary changed/,
    );
    expect(applied).toEqual(["p1"]);
  });
});
