import { randomUUID } from "node:crypto";
import type { Caller, Outbox } from "@hub/kit";
import type { ClientSession, Collection, Db } from "mongodb";
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
  }

  async ensureIndexes(): Promise<void> {
    await this.persons.createIndex({ idNumber: 1 }, { unique: true, name: "idNumber_unique" });
  }

  async findByIds(ids: readonly string[]): Promise<Person[]> {
    const docs = await this.persons.find({ _id: { $in: [...ids] } }).toArray();
    return docs.map(toPerson);
  }

  async findByIdNumbers(idNumbers: readonly string[]): Promise<Person[]> {
    const docs = await this.persons.find({ idNumber: { $in: [...idNumbers] } }).toArray();
    return docs.map(toPerson);
  }

  /** Inserts the person and announces it to the cards subgraph, in the caller's transaction. */
  async register(
    session: ClientSession,
    person: { idNumber: string; name: string; phone: string | null },
    now: Date,
    caller: Caller,
  ): Promise<string> {
    const id = `p_${randomUUID().replace(/-/g, "").slice(0, 16)}`;
    await this.persons.insertOne({ _id: id, ...person, createdAt: now }, { session });
    await this.outbox?.add(
      session,
      {
        type: "PersonRegistered",
        payload: { personId: id },
        actor: caller.sub,
        channel: caller.channel,
        occurredAt: now,
      },
      ["cards", "passwords"],
    );
    return id;
  }

  async ping(): Promise<boolean> {
    await this.persons.countDocuments({}, { limit: 1 });
    return true;
  }
}
