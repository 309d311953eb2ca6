import { Arg, Authorized, Ctx, ID, Int, Query, Resolver, Root, Subscription } from "type-graphql";
import type { FeedContext } from "../context.js";
import type { FeedArgs } from "../commands/feed-reader.js";
import { CardEvent, CardEventPage } from "../model/card-event.js";
import { CardEventTypeEnum } from "../model/card-event-type.js";
import { toCardEvent } from "../model/to-card-event.js";
import { encodeCursor } from "../rules/cursor.js";
import type { CardEventType } from "../rules/card-event-types.js";
import type { CardEventDocument } from "../store/card-event-document.js";

const AFTER =
  "Resume after this cursor (a CardEvent's `cursor`): the events after it come first. BAD_USER_INPUT for a cursor the feed never gave out, CURSOR_EXPIRED for one older than its retention (HUB_EVENT_RETENTION_DAYS, 7 days by default).";
const PERSON = "Only the events of this person's cards and passwords.";
const TYPES = "Only events of these types (all types when absent).";

@Resolver()
export class CardEventResolver {
  @Authorized("events:read")
  @Query(() => CardEventPage, {
    description:
      "The status-change log, paged, for callers that cannot hold a connection: the same events as the cardEvents subscription, in log order. Scope events:read.",
  })
  async cardEventLog(
    @Arg("after", () => String, { nullable: true, description: AFTER }) after: string | null,
    @Arg("personId", () => ID, { nullable: true, description: PERSON }) personId: string | null,
    @Arg("types", () => [CardEventTypeEnum], { nullable: true, description: TYPES })
    types: CardEventType[] | null,
    @Arg("first", () => Int, {
      nullable: true,
      description: "How many events at most (1 to 500; 100 when absent).",
    })
    first: number | null,
    @Ctx() ctx: FeedContext,
  ): Promise<CardEventPage> {
    const page = await ctx.reader.page({ after, personId, types, first });
    const last = page.entries.at(-1);
    return {
      events: page.entries.map(toCardEvent),
      endCursor: last ? encodeCursor({ seq: last.seq, recordedAt: last.recordedAt }) : after,
      hasMore: page.hasMore,
    };
  }

  @Authorized("events:read")
  @Subscription(() => CardEvent, {
    description:
      "Live status changes (through the gateway over GraphQL over SSE or WebSocket, graphql-transport-ws). With `after`, the events missed since that cursor come first, then live ones, without gap or duplicate. Scope events:read.",
    // Access and the cursor are checked here, before the stream opens, so a refusal is the
    // operation's error rather than a stream that ends.
    subscribe: ({ args, context }) => (context as FeedContext).reader.stream(args as FeedArgs),
  })
  cardEvents(
    @Root() entry: CardEventDocument,
    // The arguments are read by `subscribe` above; declared here for the schema.
    @Arg("personId", () => ID, { nullable: true, description: PERSON }) _personId: string | null,
    @Arg("types", () => [CardEventTypeEnum], { nullable: true, description: TYPES })
    _types: CardEventType[] | null,
    @Arg("after", () => String, { nullable: true, description: AFTER }) _after: string | null,
  ): CardEvent {
    return toCardEvent(entry);
  }
}
