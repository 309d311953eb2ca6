import { z } from "zod";
import type { Channel } from "../channels.js";
import type { SubgraphName } from "../settings/subgraph-urls.js";

/**
 * Every event that crosses subgraphs: its payload, who produces it and who receives it. The outbox
 * takes an event's destinations from here, the inbox checks a received payload against it, and a
 * handler sees the payload typed. One place to read the hub's flows (docs list them from here).
 *
 * Events about an aggregate carry its absolute state and version, never only a delta: a receiver
 * keeps the newest version it has seen, so any order, duplicate or gap converges to the state of
 * the newest version (a lane is ordered, but two replicas, a stranded release or a redelivery can
 * still reorder one aggregate's events).
 */
const agent = z
  .object({ idNumber: z.string(), name: z.string(), powerOfAttorneyRef: z.string() })
  .nullable();

const isoDate = z.iso.datetime({ offset: true });
const version = z.number().int().positive();

/** The card as of one of its versions: what the bank decides on and mirrors. */
const cardState = {
  cardId: z.string().min(1),
  personId: z.string().min(1),
  province: z.string(),
  issuingBank: z.string(),
  /** The card's status after this version (its absolute state). */
  status: z.string(),
  expiresAt: isoDate,
  cardVersion: version,
};

/** A card's change: its state at the new version, what happened, and the status before. */
const cardChange = z.object({
  ...cardState,
  /** What happened (R-CARD-2's change types); receivers decide on `status`, not on this. */
  change: z.string(),
  fromStatus: z.string().nullable(),
});

/**
 * What the status-change feed needs of an account's change beyond its absolute state: the card's
 * holder and the status before. Optional: events from producers older than the feed lack them.
 */
const accountChange = {
  /** The card's holder, as the bank last heard of the card (null for an account stored before). */
  personId: z.string().min(1).nullable().optional(),
  /** The account's status before the change (null when the change opened it). */
  fromStatus: z.string().nullable().optional(),
};

const bankAccountStatusChanged = z.object({
  cardId: z.string().min(1),
  status: z.string(),
  accountVersion: version,
  ...accountChange,
});

const financialFunctionActivated = z.object({
  cardId: z.string().min(1),
  agent,
  accountVersion: version,
  ...accountChange,
  /** The account's status after the activation (absent from older producers). */
  status: z.string().optional(),
});

const cardPasswordStateChanged = z.object({
  cardId: z.string().min(1),
  /** The card's holder as the passwords subgraph knows it; null for a card noted before it kept them. */
  personId: z.string().min(1).nullable(),
  change: z.enum(["LOCKED", "RESET"]),
  /** PasswordState before and after the change. */
  fromState: z.string().nullable(),
  state: z.string(),
});

/**
 * Another subgraph's event about a card, as the cards subgraph passes it on to the feed: its type
 * with its payload, checked against the same schema as when it was received.
 */
const passedOn = z.discriminatedUnion("type", [
  z.object({ type: z.literal("FinancialFunctionActivated"), payload: financialFunctionActivated }),
  z.object({ type: z.literal("BankAccountStatusChanged"), payload: bankAccountStatusChanged }),
  z.object({ type: z.literal("CardPasswordStateChanged"), payload: cardPasswordStateChanged }),
]);

export const EVENT_CATALOGUE = {
  PersonRegistered: {
    producer: "persons",
    receivers: ["cards", "passwords"],
    payload: z.object({ personId: z.string().min(1) }),
  },
  CardIssued: {
    producer: "cards",
    receivers: ["bank-accounts", "passwords", "feed"],
    payload: z.object({ ...cardState, replacesId: z.string().nullable() }),
  },
  CardStatusChanged: {
    producer: "cards",
    receivers: ["bank-accounts", "passwords", "feed"],
    payload: cardChange,
  },
  /**
   * A change of a card that leaves its status as it was (collected while archived, the social
   * function enabled under a loss report, an electronic card issued for a card in use): only the
   * status-change feed needs it, so the receivers of CardStatusChanged are not sent it.
   */
  CardUpdated: {
    producer: "cards",
    receivers: ["feed"],
    payload: cardChange,
  },
  /** The feed hears of it through cards (ForwardedToFeed), in the card's order. */
  BankAccountStatusChanged: {
    producer: "bank-accounts",
    receivers: ["cards"],
    payload: bankAccountStatusChanged,
  },
  /** The feed hears of it through cards (ForwardedToFeed), in the card's order. */
  FinancialFunctionActivated: {
    producer: "bank-accounts",
    receivers: ["cards"],
    payload: financialFunctionActivated,
  },
  InitialPasswordChanged: {
    producer: "passwords",
    receivers: ["cards"],
    payload: z.object({ cardId: z.string().min(1) }),
  },
  ElectronicPasswordLocked: {
    producer: "passwords",
    receivers: ["cards", "feed"],
    /** The lock only ever lifts by itself (R-PWD-4): the latest end is the absolute state. */
    payload: z.object({ personId: z.string().min(1), lockedUntil: isoDate }),
  },
  /**
   * A card password locked (R-PWD-3, the sixth wrong entry) or reset (in person or on the
   * website), committed with the change: only the status-change feed needs it, and hears of it
   * through cards (ForwardedToFeed), in the card's order.
   */
  CardPasswordStateChanged: {
    producer: "passwords",
    receivers: ["cards"],
    payload: cardPasswordStateChanged,
  },
  /**
   * Another subgraph's event about a card that the feed reports, passed on by cards in the write
   * that records the event on the card (docs/feed.md "Per-card order"): every entry of one card
   * then reaches the feed through one lane, cards', in the order cards wrote them. Its id is
   * derived from the passed-on event's (`sourceId`), so a redelivery of that event passes on
   * the same id, which the feed logs once.
   */
  ForwardedToFeed: {
    producer: "cards",
    receivers: ["feed"],
    payload: z.object({ sourceId: z.string().min(1), source: passedOn }),
  },
} as const satisfies Record<
  string,
  { producer: SubgraphName; receivers: readonly SubgraphName[]; payload: z.ZodType }
>;

/**
 * Receivers whose application no request waits for: they change nothing any mutation answers
 * (the feed logs what happened). Their delivery is as certain as any other's; a mutation's
 * answer does not wait for it, so a slow or down feed never slows the counter.
 */
export const OBSERVERS: readonly SubgraphName[] = ["feed"];

export type EventType = keyof typeof EVENT_CATALOGUE;
export type EventPayload<T extends EventType> = z.infer<(typeof EVENT_CATALOGUE)[T]["payload"]>;

/** Events `subgraph` produces. */
export type ProducedBy<S extends SubgraphName> = {
  [T in EventType]: (typeof EVENT_CATALOGUE)[T]["producer"] extends S ? T : never;
}[EventType];

/** Events `subgraph` receives. */
export type ReceivedBy<S extends SubgraphName> = {
  [T in EventType]: S extends (typeof EVENT_CATALOGUE)[T]["receivers"][number] ? T : never;
}[EventType];

/** An event as a command decides it, before the outbox gives it an id and its destinations. */
export type NewEvent<T extends EventType = EventType> = {
  [K in T]: {
    type: K;
    payload: EventPayload<K>;
    actor: string;
    channel: Channel;
    occurredAt: Date;
    /**
     * Only for an event that must have the same id however often it is made (one derived from
     * another event's id, `derivedEventId`): the outbox draws a random id otherwise.
     */
    id?: string;
  };
}[T];

/** An event of another subgraph about a card, as cards passes it on to the feed. */
export type PassedOnEvent = EventPayload<"ForwardedToFeed">["source"];

export function isEventType(type: string): type is EventType {
  return Object.hasOwn(EVENT_CATALOGUE, type);
}

/** Who receives events of `type`. */
export function receiversOf(type: EventType): readonly SubgraphName[] {
  return EVENT_CATALOGUE[type].receivers;
}

/** Every subgraph `source` sends events to. */
export function destinationsOf(source: SubgraphName): SubgraphName[] {
  const all = Object.values(EVENT_CATALOGUE)
    .filter((entry) => entry.producer === source)
    .flatMap((entry) => entry.receivers);
  return [...new Set(all)];
}

/** The event types `subgraph` must handle. */
export function typesReceivedBy(subgraph: SubgraphName): EventType[] {
  return (Object.keys(EVENT_CATALOGUE) as EventType[]).filter((type) =>
    (EVENT_CATALOGUE[type].receivers as readonly string[]).includes(subgraph),
  );
}

/** A received payload checked against the catalogue; the reason when it does not fit. */
export function parsePayload<T extends EventType>(
  type: T,
  payload: unknown,
): { ok: true; payload: EventPayload<T> } | { ok: false; reason: string } {
  const parsed = EVENT_CATALOGUE[type].payload.safeParse(payload);
  if (parsed.success) return { ok: true, payload: parsed.data as EventPayload<T> };
  return { ok: false, reason: z.prettifyError(parsed.error) };
}
