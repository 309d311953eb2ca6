import { seedBankAccounts } from "@hub/bank-accounts/seed";
import { seedCards } from "@hub/cards/seed";
import { subgraphDatabaseName, type MongoClient } from "@hub/kit";
import { electronicLockEnds, hashPassword, seedPasswords } from "@hub/passwords/seed";
import { seedPersons } from "@hub/persons/seed";
import {
  addDemoPasswords,
  buildDemoData,
  DEMO_CARD_PASSWORD,
  DEMO_ELECTRONIC_PASSWORD,
  type DemoData,
} from "./demo-data.js";

/**
 * Seeds every subgraph's own database through that subgraph's seed function. Idempotent: records
 * already stored are left as they are.
 */
export async function seedDemoData(
  client: MongoClient,
  prefix = "hub",
  now = new Date(),
  personCount = 60,
): Promise<DemoData & { inserted: number }> {
  const data = buildDemoData(now, personCount);
  addDemoPasswords(
    data,
    now,
    await hashPassword(DEMO_CARD_PASSWORD),
    await hashPassword(DEMO_ELECTRONIC_PASSWORD),
  );
  const db = (name: string) => client.db(subgraphDatabaseName(prefix, name));
  const inserted =
    (await seedPersons(db("persons"), data.persons)) +
    (await seedCards(
      db("cards"),
      data.cards,
      data.events,
      data.persons.map((p) => p._id),
      data.electronicPasswords
        .filter((p) => p.lockedAt)
        .map((p) => ({ personId: p._id, until: electronicLockEnds(p.lockedAt!) })),
    )) +
    (await seedPasswords(db("passwords"), data.cardPasswords, data.electronicPasswords, {
      cardIds: data.cards.map((c) => c._id),
      personIds: data.persons.map((p) => p._id),
      cardStatuses: data.cards.map((c) => ({
        cardId: c._id,
        status: c.status,
        cardVersion: c.version,
      })),
    })) +
    (await seedBankAccounts(db("bank-accounts"), data.bankAccounts));
  return { ...data, inserted };
}
