import type { ClientSession, Collection, Db } from "mongodb";

interface KnownPerson {
  _id: string;
  registeredAt: Date;
}

/**
 * The persons this subgraph may issue cards to: a projection fed by PersonRegistered events from
 * the persons subgraph, so issuing never reads another subgraph's database.
 */
export class PersonRegistry {
  readonly persons: Collection<KnownPerson>;

  constructor(db: Db) {
    this.persons = db.collection<KnownPerson>("known_persons");
  }

  async isKnown(personId: string, session?: ClientSession): Promise<boolean> {
    return (await this.persons.countDocuments({ _id: personId }, { session, limit: 1 })) > 0;
  }

  async add(personId: string, at: Date, session?: ClientSession): Promise<void> {
    await this.persons.updateOne(
      { _id: personId },
      { $set: { registeredAt: at } },
      { upsert: true, session },
    );
  }
}
