import { describe, expect, it } from "vitest";
import { codeOf, freshIdNumber, personWithCard, run, runCardLife } from "./support/cards.js";
import { eventually } from "./support/eventually.js";
import { contractOperation, graphql, token, type GraphQLResponse } from "./support/hub.js";
import { useReplicaTopology } from "./support/replicas.js";

const replicas = useReplicaTopology({ prefix: "r", startTimeoutMs: 180_000 });
const topology = () => replicas().topology;

const db = (name: string) => replicas().client.db(`${topology().dbPrefix}_${name}`);

describe("two gateways and two replicas of each subgraph behind HAProxy", () => {
  it("answers reads and every mutation; effects cross subgraphs; replays and races behave as on one process", async () => {
    const url = topology().url;
    const person = topology().demo!.persons[0]!;
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
    const url = topology().url;
    const bearer = await token();
    const lossCards = await Promise.all(Array.from({ length: 4 }, () => personWithCard(url)));
    for (const { cardId } of lossCards) await run(url, "CollectCard", { cardId });

    /** One client request: OK, or unknown (an error or no answer: applied or not, the client cannot tell). */
    interface Sent {
      client: string;
      ok: boolean;
      afterLastKill: boolean;
      what: string;
    }
    const sent: Sent[] = [];
    let afterLastKill = false;
    let stopping = false;
    /** Sends one request; the answer when it is OK by `isOk`, else null (its outcome unknown). */
    const attempt = async <T>(
      client: string,
      operation: string,
      request: () => Promise<GraphQLResponse<T>>,
      isOk: (answer: GraphQLResponse<T>) => boolean = () => true,
    ): Promise<GraphQLResponse<T> | null> => {
      const startedAfterLastKill = afterLastKill;
      let failure = "no answer";
      const answer = await request().catch((error: unknown) => {
        // Refused, cut, or not JSON (the balancer's own 503 page when it has no server left).
        failure = `no answer (${error instanceof Error ? error.message.slice(0, 60) : String(error)})`;
        return null;
      });
      const ok = answer !== null && answer.errors === undefined && isOk(answer);
      sent.push({
        client,
        ok,
        afterLastKill: startedAfterLastKill,
        what: `${operation} ${answer ? String(codeOf(answer) ?? "not OK") : failure}`,
      });
      return ok ? answer : null;
    };

    /**
     * What each card's history must show, by entry type: `ok` answers that caused such an entry,
     * and `unknown` ones that may have (their answer was lost with a killed process).
     */
    const expected = new Map<string, Map<string, { ok: number; unknown: number }>>();
    const expect1 = (cardId: string, type: string, ok: boolean) => {
      const types = expected.get(cardId) ?? new Map<string, { ok: number; unknown: number }>();
      const tally = types.get(type) ?? { ok: 0, unknown: 0 };
      if (ok) tally.ok += 1;
      else tally.unknown += 1;
      types.set(type, tally);
      expected.set(cardId, types);
    };
    for (const { cardId } of lossCards) {
      expect1(cardId, "ISSUED", true);
      expect1(cardId, "COLLECTED", true);
    }

    const statusOf = async (cardId: string) =>
      (
        await db("cards")
          .collection<{ _id: string; status: string }>("cards")
          .findOne({ _id: cardId })
      )?.status;
    /** Temporary loss reports and their withdrawal on one card, with a read of a person between. */
    const lossWorker = async (cardId: string) => {
      let lost = false;
      for (let i = 0; !stopping; i++) {
        const [operation, input, type]: readonly [string, Record<string, unknown>, string] = lost
          ? (["WithdrawLossReport", { cardId }, "LOSS_REPORT_WITHDRAWN"] as const)
          : (["ReportCardLoss", { cardId, temporary: true }, "LOSS_REPORTED_TEMPORARY"] as const);
        const answer: GraphQLResponse | null = await attempt(cardId, operation, () =>
          run(url, operation, input),
        );
        expect1(cardId, type, answer !== null);
        // Whether a lost answer applied is unknown to the client: it reads the card, as a counter would.
        lost = answer ? !lost : (await statusOf(cardId)) === "TEMPORARY_LOSS";
        const person = topology().demo!.persons[i % topology().demo!.persons.length]!;
        await attempt(cardId, "PersonCards", async () =>
          graphql(
            url,
            await contractOperation("PersonCards"),
            { idNumber: person.idNumber },
            bearer,
          ),
        );
      }
    };

    /** A person registered during the faults, and how far their card and passwords got. */
    interface Newcomer {
      idNumber: string;
      registered: boolean;
      cardId?: string;
      /** The passwords set in turn, and whether each change answered OK. */
      passwords: { password: string; ok: boolean }[];
    }
    const newcomers: Newcomer[] = [];
    /**
     * Registers people, issues each a card and changes its password twice (the first change of
     * the initial password enables the card through an event: R-PWD-2). A request whose answer
     * is lost ends that person's round: what it did is checked at the end.
     */
    const newcomerWorker = async (client: string) => {
      while (!stopping) {
        const person: Newcomer = { idNumber: freshIdNumber(), registered: false, passwords: [] };
        newcomers.push(person);
        const registered = await attempt(client, "RegisterPerson", () =>
          run<{ registerPerson: { person: { id: string } } }>(url, "RegisterPerson", {
            idNumber: person.idNumber,
            name: "故障人",
          }),
        );
        if (!registered) continue;
        person.registered = true;
        const issued = await attempt(client, "IssueCard", () =>
          run<{ issueCard: { card: { id: string } } }>(url, "IssueCard", {
            personId: registered.data!.registerPerson.person.id,
            province: "44",
            issuingBank: "中国工商银行",
          }),
        );
        if (!issued) continue;
        const cardId = issued.data!.issueCard.card.id;
        person.cardId = cardId;
        expect1(cardId, "ISSUED", true);
        for (const [currentPassword, newPassword] of [
          ["123456", "802615"],
          ["802615", "394857"],
        ] as const) {
          const changed = await attempt(
            client,
            "ChangeCardPassword",
            () =>
              run<{ changeCardPassword: { result: string } }>(url, "ChangeCardPassword", {
                cardId,
                currentPassword,
                newPassword,
              }),
            (answer) => answer.data?.changeCardPassword.result === "OK",
          );
          person.passwords.push({ password: newPassword, ok: changed !== null });
          if (currentPassword === "123456")
            expect1(cardId, "SOCIAL_FUNCTION_ENABLED", changed !== null);
          if (!changed) break;
        }
      }
    };

    const clients = [...lossCards.map((c) => c.cardId), "newcomers-1", "newcomers-2"];
    const load = Promise.all([
      ...lossCards.map((c) => lossWorker(c.cardId)),
      newcomerWorker("newcomers-1"),
      newcomerWorker("newcomers-2"),
    ]);
    const okOf = (client: string) => sent.filter((s) => s.client === client && s.ok).length;
    /**
     * Waits until every client has had `more` OK answers: the phases move on by what the run did,
     * not by time, so a loaded machine makes them longer, never emptier.
     */
    const progress = async (more: number) => {
      const from = new Map(clients.map((client) => [client, okOf(client)]));
      await eventually(async () => {
        for (const client of clients)
          expect(okOf(client) - from.get(client)!, client).toBeGreaterThanOrEqual(more);
      }, 60_000);
    };
    /** Signals the named processes and resolves once each has exited. */
    const stopReplicas = async (names: string[], signal: NodeJS.Signals) =>
      Promise.all(
        names.map((name) => {
          const child = topology().replicas.find((r) => r.name === name)!.child;
          const exited = new Promise((resolve) => child.once("exit", resolve));
          child.kill(signal);
          return exited;
        }),
      );
    try {
      await progress(3);
      await stopReplicas(["gateway-1", "persons-1", "cards-1"], "SIGTERM");
      await progress(3);
      await stopReplicas(["passwords-1", "bank-accounts-1"], "SIGKILL");
      afterLastKill = true;
      await progress(5);
    } finally {
      stopping = true;
      await load;
    }
    const failed = sent.filter((s) => !s.ok);
    const reasons = new Map<string, number>();
    for (const { what } of failed) reasons.set(what, (reasons.get(what) ?? 0) + 1);
    console.log(
      `fault run: ${sent.length - failed.length} requests answered OK, ${failed.length} not (${[...reasons].map(([what, n]) => `${n}× ${what}`).join(", ")}); ${newcomers.length} newcomers`,
    );
    // Only what was in flight on a killed process may fail: at most one request per client at
    // each of the two moments processes are stopped, and none sent once they had exited.
    expect(failed.length).toBeLessThanOrEqual(2 * clients.length);
    expect(failed.filter((s) => s.afterLastKill).map((s) => `${s.client}: ${s.what}`)).toEqual([]);
    // The run exercised what is checked below.
    expect(newcomers.filter((n) => n.passwords.some((p) => p.ok)).length).toBeGreaterThan(0);

    // Delivered once the receivers that are left have them (a delivery in flight on a killed
    // replica is retried by the relay).
    await eventually(async () => {
      const pending = await Promise.all(
        ["persons", "cards", "passwords", "bank_accounts"].map((name) =>
          db(name).collection("outbox").countDocuments({}),
        ),
      );
      expect(pending).toEqual([0, 0, 0, 0]);
    }, 30_000);

    // Registrations during the faults reached cards and passwords: every person stored (those
    // whose answer was lost included) is known to both, and every OK registration is stored.
    const persons = db("persons").collection<{ _id: string; idNumber: string }>("persons");
    for (const newcomer of newcomers) {
      const stored = await persons.findOne({ idNumber: newcomer.idNumber });
      if (newcomer.registered) expect(stored, newcomer.idNumber).not.toBeNull();
      if (!stored) continue;
      for (const subgraph of ["cards", "passwords"])
        expect(
          await db(subgraph)
            .collection<{ _id: string }>("known_persons")
            .countDocuments({ _id: stored._id }),
          `${subgraph} knows ${stored._id}`,
        ).toBe(1);
      // An issue whose answer was lost may have stored the card: it is checked like the others;
      // never two (a repeat of the request cannot issue twice).
      const cards = await db("cards")
        .collection<{ _id: string }>("cards")
        .find({ personId: stored._id })
        .toArray();
      expect(cards.length, stored._id).toBeLessThanOrEqual(1);
      if (newcomer.cardId) expect(cards.map((c) => c._id)).toEqual([newcomer.cardId]);
      for (const card of cards) if (!expected.has(card._id)) expect1(card._id, "ISSUED", false);
    }

    // Password changes: each card opens with the last password whose change answered OK, or the
    // one after it whose answer was lost.
    for (const newcomer of newcomers.filter((n) => n.cardId !== undefined)) {
      const lastOk = newcomer.passwords.filter((p) => p.ok).at(-1)?.password ?? "123456";
      const lost = newcomer.passwords.find((p) => !p.ok)?.password;
      const verify = async (password: string) =>
        (
          await run<{ verifyCardPassword: { result: string } }>(url, "VerifyCardPassword", {
            cardId: newcomer.cardId,
            password,
          })
        ).data?.verifyCardPassword.result;
      const results = [await verify(lastOk)];
      if (results[0] !== "OK" && lost) results.push(await verify(lost));
      expect(results, `${newcomer.cardId}: ${JSON.stringify(newcomer.passwords)}`).toContain("OK");
    }

    // Every card change reached the bank and passwords, once: their mirrors of each card are the
    // card as it is; each card's history holds, of each kind, the changes that answered OK (plus,
    // at most, those whose answer was lost); an entry caused by an event names it, and no event
    // caused two entries.
    const eventIds = new Map<string, string>();
    for (const [cardId, types] of expected) {
      const card = await db("cards")
        .collection<{ _id: string; status: string; history?: HistoryEntry[] }>("cards")
        .findOne({ _id: cardId });
      const account = await db("bank_accounts")
        .collection<{ card?: { status: string } | null }>("bank_accounts")
        .findOne({ cardId });
      const known = await db("passwords")
        .collection<{ _id: string; status?: string }>("known_cards")
        .findOne({ _id: cardId });
      expect(account?.card?.status, `bank mirror of ${cardId}`).toBe(card!.status);
      expect(known?.status, `passwords mirror of ${cardId}`).toBe(card!.status);

      const entries = await historyOf(cardId, card!.history ?? []);
      const counted = new Map<string, number>();
      for (const entry of entries) counted.set(entry.type, (counted.get(entry.type) ?? 0) + 1);
      for (const type of new Set([...types.keys(), ...counted.keys()])) {
        const { ok, unknown } = types.get(type) ?? { ok: 0, unknown: 0 };
        const count = counted.get(type) ?? 0;
        expect(count, `${cardId} ${type}`).toBeGreaterThanOrEqual(ok);
        expect(count, `${cardId} ${type}`).toBeLessThanOrEqual(ok + unknown);
      }
      for (const entry of entries) {
        const eventId = entry.details?.["eventId"];
        // Enabled by another subgraph's event (the initial password changed): it names the event.
        if (entry.type === "SOCIAL_FUNCTION_ENABLED")
          expect(eventId, `${cardId} ${entry._id}`).toEqual(expect.any(String));
        if (typeof eventId !== "string") continue;
        expect(eventIds.get(eventId), `event ${eventId} applied twice`).toBeUndefined();
        eventIds.set(eventId, entry._id);
      }
    }
    // The checks above saw events at work, not only cards no event touched.
    expect(eventIds.size).toBeGreaterThan(0);
  }, 300_000);
});

interface HistoryEntry {
  _id: string;
  type: string;
  details?: Record<string, unknown> | null;
}

/**
 * A card's whole history as stored: the entries kept in the card and those moved out of it (into
 * buckets, or `card_events` before buckets), each once by its deterministic id, as the cards
 * subgraph itself reads it.
 */
async function historyOf(cardId: string, kept: HistoryEntry[]): Promise<HistoryEntry[]> {
  const buckets = await db("cards")
    .collection<{ cardId: string; events: HistoryEntry[] }>("card_history_buckets")
    .find({ cardId })
    .toArray();
  const legacy = await db("cards")
    .collection<HistoryEntry & { cardId: string }>("card_events")
    .find({ cardId })
    .toArray();
  const byId = new Map<string, HistoryEntry>();
  for (const entry of [...legacy, ...buckets.flatMap((b) => b.events), ...kept])
    byId.set(entry._id, entry);
  return [...byId.values()];
}
