import { randomUUID } from "node:crypto";
import {
  CREATED_WITH_KEY_INDEX,
  insertNewDocument,
  type Caller,
  type DocumentKey,
  type EffectScope,
  type Outbox,
} from "@hub/kit";
import type { Collection, Db, Document } from "mongodb";
import type { Person } from "../model/person.js";
import type { PersonDocument } from "./person-document.js";

/** Documents map to API objects explicitly: stored fields never leak by accident. */
export function toPerson(doc: PersonDocument): Person {
  return { id: doc._id, idNumber: doc.idNumber, name: doc.name, phone: doc.phone };
}

export class PersonRepository {
  readonly persons: Collection<PersonDocument>;

  constructor(
    readonly db: Db,
    private readonly outbox?: Outbox,
  ) {
    this.persons = db.collection<PersonDocument>("persons");
    outbox?.carriedIn(db.collection<Document>("persons"));
  }

  async ensureIndexes(): Promise<void> {
    await this.persons.createIndex({ idNumber: 1 }, { unique: true, name: "idNumber_unique" });
    await this.persons.createIndex(
      { createdWithKey: 1 },
      { unique: true, sparse: true, name: CREATED_WITH_KEY_INDEX },
    );
  }

  async findByIds(ids: readonly string[]): Promise<Person[]> {
    const docs = await this.persons.find({ _id: { $in: [...ids] } }).toArray();
    return docs.map(toPerson);
  }

  async findByIdNumbers(idNumbers: readonly string[]): Promise<Person[]> {
    const docs = await this.persons.find({ idNumber: { $in: [...idNumbers] } }).toArray();
    return docs.map(toPerson);
  }

  /**
   * Inserts the person carrying its PersonRegistered event (to cards and passwords) and, with a
   * key, the request's idempotency record: one single-document write. A replay answers the first
   * registration; a second registration of one identity number fails on its unique index.
   */
  async register(
    person: { idNumber: string; name: string; phone: string | null },
    now: Date,
    caller: Caller,
    key: DocumentKey | null,
    effects: EffectScope | null,
  ): Promise<string> {
    if (!this.outbox) throw new Error("registering needs the outbox");
    const id = `p_${randomUUID().replace(/-/g, "").slice(0, 16)}`;
    const { personId } = await insertNewDocument<
      PersonDocument & { version: number },
      { personId: string }
    >({
      collection: this.persons as unknown as Collection<PersonDocument & { version: number }>,
      outbox: this.outbox,
      effects,
      document: { _id: id, ...person, createdAt: now },
      key,
      now,
      result: { personId: id },
      events: [
        {
          event: {
            type: "PersonRegistered",
            payload: { personId: id },
            actor: caller.sub,
            channel: caller.channel,
            occurredAt: now,
          },
          destinations: ["cards", "passwords"],
        },
      ],
    });
    return personId;
  }

  async ping(): Promise<boolean> {
    await this.persons.countDocuments({}, { limit: 1 });
    return true;
  }
}
