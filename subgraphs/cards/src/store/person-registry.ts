import { KnownIds, type Db } from "@hub/kit";

/**
 * The persons this subgraph may issue cards to: a projection fed by PersonRegistered events from
 * the persons subgraph, so issuing never reads another subgraph's database.
 */
export class PersonRegistry extends KnownIds {
  constructor(db: Db) {
    super(db, "known_persons");
  }
}
