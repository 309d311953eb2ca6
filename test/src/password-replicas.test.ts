import { subgraphDatabaseName, type Channel } from "@hub/kit";
import { beforeAll, describe, expect, it } from "vitest";
import { personWithCard, personWithElectronicPassword, run } from "./support/cards.js";
import { attemptsLeftOfWrong, serialisable } from "./support/password-races.js";
import { useReplicaTopology } from "./support/replicas.js";

/**
 * Password locks (R-PWD-3, R-PWD-4) with two gateways and two replicas of every subgraph behind
 * HAProxy: concurrent entries for one card or person land on different processes, so only the
 * database's atomic updates can keep the count and the lock right (nothing held in one process
 * helps). One topology for the whole file: it takes about a minute to start.
 */
const replicas = useReplicaTopology({ prefix: "pr", seed: false });
let url: string;
beforeAll(() => {
  url = replicas().topology.url;
});

const passwordsDb = () =>
  replicas().client.db(subgraphDatabaseName(replicas().topology.dbPrefix, "passwords"));
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

const withElectronicPassword = async () => (await personWithElectronicPassword(url)).personId;

const locks = (subject: string) =>
  passwordsDb().collection("password_events").countDocuments({ subject, type: "LOCKED" });

describe("password locks across two replicas of every subgraph", () => {
  it("R-PWD-3: 20 concurrent wrong card-password entries count exactly six and lock once", async () => {
    const { cardId } = await personWithCard(url);
    const verdicts = await Promise.all(
      Array.from({ length: 20 }, (_, i) => verifyCard(cardId, "246810", CARD_CHANNELS[i % 4]!)),
    );
    expect(attemptsLeftOfWrong(verdicts)).toEqual([1, 2, 3, 4, 5]);
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
    expect(attemptsLeftOfWrong(verdicts)).toEqual([1, 2, 3, 4, 5, 6]);
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
