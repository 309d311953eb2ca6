import { connectMongo, subgraphDatabaseName, type Channel, type MongoClient } from "@hub/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startReplicaTopology, type ReplicaTopology } from "../../scripts/lib/replicas.js";
import { personWithCard, run } from "./support/cards.js";
import { TEST_SECRET } from "./support/hub.js";

/**
 * Password locks (R-PWD-3, R-PWD-4) with two gateways and two replicas of every subgraph behind
 * HAProxy: concurrent entries for one card or person land on different processes, so only the
 * database's atomic updates can keep the count and the lock right (nothing held in one process
 * helps). One topology for the whole file: it takes about a minute to start.
 */
let topology: ReplicaTopology;
let client: MongoClient;
let url: string;
beforeAll(async () => {
  topology = await startReplicaTopology({
    secret: TEST_SECRET,
    mongoUri: process.env["TEST_MONGODB_URI"],
    dbPrefix: `pr${Date.now().toString(36)}`,
    seed: false,
  });
  client = await connectMongo(topology.mongoUri);
  url = topology.url;
}, 240_000);
afterAll(async () => {
  await client?.close();
  await topology?.stop();
}, 60_000);

const passwordsDb = () => client.db(subgraphDatabaseName(topology.dbPrefix, "passwords"));
const CARD_CHANNELS: Channel[] = ["COUNTER", "BANK_COUNTER", "HOSPITAL", "SELF_SERVICE"];
const ECARD_CHANNELS: Channel[] = ["APP", "WECHAT", "ALIPAY", "NATIONAL_PLATFORM"];
const DAY_MS = 24 * 3_600_000;

interface Verdict {
  result: string;
  attemptsLeft: number;
  lockedUntil?: string | null;
}

async function verifyCard(cardId: string, password: string, channel: Channel): Promise<Verdict> {
  const answer = await run<{ verifyCardPassword: Verdict }>(
    url,
    "VerifyCardPassword",
    { cardId, password },
    channel,
  );
  expect(answer.errors, JSON.stringify(answer.errors)).toBeUndefined();
  return answer.data!.verifyCardPassword;
}

async function verifyElectronic(
  personId: string,
  password: string,
  channel: Channel,
): Promise<Verdict> {
  const answer = await run<{ verifyElectronicCardPassword: Verdict }>(
    url,
    "VerifyElectronicCardPassword",
    { personId, password },
    channel,
  );
  expect(answer.errors, JSON.stringify(answer.errors)).toBeUndefined();
  return answer.data!.verifyElectronicCardPassword;
}

async function withElectronicPassword(): Promise<string> {
  const { personId } = await personWithCard(url);
  const set = await run(
    url,
    "SetElectronicCardPassword",
    { personId, newPassword: "394857" },
    "APP",
  );
  expect(set.errors).toBeUndefined();
  return personId;
}

const locks = (subject: string) =>
  passwordsDb().collection("password_events").countDocuments({ subject, type: "LOCKED" });

/** One entry of a race: whether it was the right password, and what it was answered. */
interface Entry {
  correct: boolean;
  result: string;
  attemptsLeft: number;
}

/**
 * Whether some one-at-a-time order of `entries`, from `failedBefore` consecutive wrong entries,
 * gives each entry the answer it got and ends in the stored `final` state: a wrong entry counts
 * and the one reaching `lockAt` locks (LOCKED, 0 left); a correct one clears the count (OK,
 * `lockAt` left); once locked every entry is LOCKED. (The same check as passwords.test.ts.)
 */
function serialisable(
  entries: readonly Entry[],
  lockAt: number,
  failedBefore: number,
  final: { failedAttempts: number; locked: boolean },
): boolean {
  const fits = (order: readonly number[]): boolean => {
    let failed = failedBefore;
    let locked = false;
    for (const index of order) {
      const entry = entries[index]!;
      let result: string;
      let left: number;
      if (locked) [result, left] = ["LOCKED", 0];
      else if (entry.correct) [failed, result, left] = [0, "OK", lockAt];
      else {
        failed += 1;
        locked = failed >= lockAt;
        [result, left] = locked ? ["LOCKED", 0] : ["WRONG", lockAt - failed];
      }
      if (result !== entry.result || left !== entry.attemptsLeft) return false;
    }
    return failed === final.failedAttempts && locked === final.locked;
  };
  const orders = (rest: number[]): number[][] =>
    rest.length <= 1
      ? [rest]
      : rest.flatMap((first, i) =>
          orders([...rest.slice(0, i), ...rest.slice(i + 1)]).map((tail) => [first, ...tail]),
        );
  return orders(entries.map((_, i) => i)).some(fits);
}

describe("password locks across two replicas of every subgraph", () => {
  it("R-PWD-3: 20 concurrent wrong card-password entries count exactly six and lock once", async () => {
    const { cardId } = await personWithCard(url);
    const verdicts = await Promise.all(
      Array.from({ length: 20 }, (_, i) => verifyCard(cardId, "246810", CARD_CHANNELS[i % 4]!)),
    );
    expect(
      verdicts
        .filter((v) => v.result === "WRONG")
        .map((v) => v.attemptsLeft)
        .sort(),
    ).toEqual([1, 2, 3, 4, 5]);
    expect(verdicts.filter((v) => v.result === "LOCKED")).toHaveLength(15);
    const stored = await passwordsDb()
      .collection<{ _id: string; state: string; failedAttempts: number }>("card_passwords")
      .findOne({ _id: cardId });
    expect(stored).toMatchObject({ state: "LOCKED", failedAttempts: 6 });
    expect(await locks(cardId)).toBe(1);
  }, 60_000);

  it("R-PWD-4: 20 concurrent wrong electronic-card entries count exactly seven, never more, and lock once", async () => {
    const personId = await withElectronicPassword();
    const verdicts = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        verifyElectronic(personId, "000003", ECARD_CHANNELS[i % 4]!),
      ),
    );
    expect(
      verdicts
        .filter((v) => v.result === "WRONG")
        .map((v) => v.attemptsLeft)
        .sort(),
    ).toEqual([1, 2, 3, 4, 5, 6]);
    const stored = await passwordsDb()
      .collection<{ _id: string; failedAttempts: number; lockedAt: Date | null }>(
        "electronic_card_passwords",
      )
      .findOne({ _id: personId });
    expect(stored?.failedAttempts).toBe(7);
    expect(stored?.lockedAt).toBeInstanceOf(Date);
    expect(await locks(personId)).toBe(1);
    // Every other entry is LOCKED until the one lock's end (R-PWD-6: "locked (until when)").
    const until = new Date(stored!.lockedAt!.getTime() + DAY_MS).toISOString();
    const locked = verdicts.filter((v) => v.result !== "WRONG");
    expect(locked).toHaveLength(14);
    for (const v of locked)
      expect(v).toMatchObject({ result: "LOCKED", attemptsLeft: 0, lockedUntil: until });
  }, 60_000);

  it("R-PWD-3, R-PWD-4: a correct entry racing wrong ones at the last attempt ends as some one-at-a-time order of them would", async () => {
    const correct = [true, false, false, false];
    for (let round = 0; round < 4; round++) {
      const { cardId } = await personWithCard(url);
      const changed = await run(url, "ChangeCardPassword", {
        cardId,
        currentPassword: "123456",
        newPassword: "802615",
      });
      expect(changed.errors).toBeUndefined();
      for (let i = 0; i < 5; i++) await verifyCard(cardId, "000004", "HOSPITAL");
      const cardEntries = (
        await Promise.all(
          correct.map((right, i) =>
            verifyCard(cardId, right ? "802615" : "000004", CARD_CHANNELS[i]!),
          ),
        )
      ).map((v, i) => ({ correct: correct[i]!, result: v.result, attemptsLeft: v.attemptsLeft }));
      const card = await passwordsDb()
        .collection<{ _id: string; state: string; failedAttempts: number }>("card_passwords")
        .findOne({ _id: cardId });
      const cardFinal = { failedAttempts: card!.failedAttempts, locked: card!.state === "LOCKED" };
      expect(
        serialisable(cardEntries, 6, 5, cardFinal),
        `card, round ${round}: ${JSON.stringify({ cardEntries, cardFinal })}`,
      ).toBe(true);

      const personId = await withElectronicPassword();
      for (let i = 0; i < 6; i++) await verifyElectronic(personId, "000003", "APP");
      const ecardEntries = (
        await Promise.all(
          correct.map((right, i) =>
            verifyElectronic(personId, right ? "394857" : "000003", ECARD_CHANNELS[i]!),
          ),
        )
      ).map((v, i) => ({ correct: correct[i]!, result: v.result, attemptsLeft: v.attemptsLeft }));
      const ecard = await passwordsDb()
        .collection<{ _id: string; failedAttempts: number; lockedAt: Date | null }>(
          "electronic_card_passwords",
        )
        .findOne({ _id: personId });
      const ecardFinal = {
        failedAttempts: ecard!.failedAttempts,
        locked: ecard!.lockedAt !== null,
      };
      expect(
        serialisable(ecardEntries, 7, 6, ecardFinal),
        `electronic card, round ${round}: ${JSON.stringify({ ecardEntries, ecardFinal })}`,
      ).toBe(true);
    }
  }, 120_000);
});
