import { encodeCursor } from "../rules/cursor.js";
import type { CardEventDocument } from "../store/card-event-document.js";
import type { CardEvent } from "./card-event.js";

/** A log entry as the API shows it: mapped field by field, never the stored document itself. */
export function toCardEvent(doc: CardEventDocument): CardEvent {
  return {
    eventId: doc._id,
    cursor: encodeCursor({ seq: doc.seq, recordedAt: doc.recordedAt }),
    type: doc.type,
    occurredAt: doc.occurredAt,
    channel: doc.channel,
    statusBefore: doc.statusBefore,
    statusAfter: doc.statusAfter,
    personId: doc.personId,
    card: doc.cardId ? { id: doc.cardId } : null,
  };
}
