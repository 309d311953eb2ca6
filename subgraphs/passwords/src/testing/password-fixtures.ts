import { Outbox, type Caller } from "@hub/kit";
import type { Db, MongoClient } from "mongodb";
import { passwordCommands } from "../commands/password-commands.js";
import { hashPassword } from "../crypto/password-hash.js";
import { PasswordRepository } from "../store/password-repository.js";

/** Tests only: what the passwords tests share (a fresh database each, wired as the server does). */

export const caller: Caller = { sub: "t", channel: "COUNTER", scopes: new Set() };
export const now = new Date("2026-12-01T09:00:00Z");

/**
 * A fresh database (`name` and a random suffix) and its repository, indexes made: a
 * `Repository` of the test's own where it swaps a store.
 */
export async function freshRepository(
  client: MongoClient,
  name: string,
  Repository: new (db: Db) => PasswordRepository = PasswordRepository,
) {
  const db = client.db(`${name}_${Math.random().toString(36).slice(2, 10)}`);
  const repository = new Repository(db);
  await repository.ensureIndexes();
  return { db, repository };
}

/** A fresh repository as above, its outbox, and the commands (initial card password 123456). */
export async function freshCommands(
  client: MongoClient,
  name: string,
  Repository?: new (db: Db) => PasswordRepository,
) {
  const { db, repository } = await freshRepository(client, name, Repository);
  const outbox = new Outbox(db, "passwords");
  await outbox.ensureIndexes();
  const commands = passwordCommands(repository, outbox, { password: "123456" });
  return { db, repository, outbox, commands };
}

/** Card `cardId` known, its password the initial one with `failedAttempts` wrong entries. */
export async function initialCardPassword(
  repository: PasswordRepository,
  cardId: string,
  failedAttempts: number,
): Promise<void> {
  await repository.known.cards.add(cardId, now);
  await repository.cardPasswords.collection.insertOne({
    _id: cardId,
    hash: null,
    state: "INITIAL",
    failedAttempts,
    lockedAt: null,
    updatedAt: now,
  });
}

/** Person `personId` known, their electronic card password `password`, no wrong entry. */
export async function electronicPassword(
  repository: PasswordRepository,
  personId: string,
  password: string,
): Promise<void> {
  await repository.known.persons.add(personId, now);
  await repository.electronicPasswords.collection.insertOne({
    _id: personId,
    hash: await hashPassword(password),
    failedAttempts: 0,
    lockedAt: null,
    updatedAt: now,
  });
}
