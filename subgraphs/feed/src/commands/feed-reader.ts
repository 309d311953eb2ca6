import { HubError, type Clock } from "@hub/kit";
import type { CardEventType } from "../rules/card-event-types.js";
import { checkCursorAge, decodeCursor, expiredCursor, forgedCursor } from "../rules/cursor.js";
import type { CardEventDocument } from "../store/card-event-document.js";
import type { CardEventLog, LogFilter } from "../store/card-event-log.js";
import type { LogTail } from "../store/log-tail.js";
import { tailLog } from "./tail-log.js";

/** The contract's bound on one page of `cardEventLog`, and the page size when none is asked. */
export const MAX_PAGE = 500;
export const DEFAULT_PAGE = 100;

export interface FeedArgs {
  after?: string | null;
  personId?: string | null;
  types?: readonly CardEventType[] | null;
}

export interface LogPage {
  entries: CardEventDocument[];
  /** More entries match after this page. */
  hasMore: boolean;
}

/** Reads the log for callers: pages of it (`cardEventLog`) and streams of it (`cardEvents`). */
export class FeedReader {
  constructor(
    private readonly log: CardEventLog,
    /** The process's one reader of the log, which every stream reads from. */
    private readonly tail: LogTail,
    /** How long entries are kept (HUB_EVENT_RETENTION_DAYS): older cursors are CURSOR_EXPIRED. */
    private readonly retentionMs: number,
    /**
     * The time cursors are judged by: the clock entries are dated by (the database's), so a
     * cursor one replica gave out is judged alike by every other whatever their hosts' clocks.
     */
    private readonly clock: Clock,
  ) {}

  /**
   * Where a cursor the client sent back points: BAD_USER_INPUT when the log never gave it out,
   * CURSOR_EXPIRED when it is older than the retention or entries after it were pruned.
   */
  async positionOf(raw: string): Promise<number> {
    const cursor = decodeCursor(raw);
    checkCursorAge(cursor, this.clock(), this.retentionMs);
    const [last, oldest] = await Promise.all([this.log.lastNumber(), this.log.oldestSeq()]);
    if (cursor.seq > last) throw forgedCursor();
    // Entries numbered after the cursor are gone: the retention pruned them.
    if (oldest === null ? cursor.seq < last : cursor.seq < oldest - 1) throw expiredCursor();
    return cursor.seq;
  }

  /** One page after `after` (from the oldest kept entry without one). */
  async page(args: FeedArgs & { first?: number | null }): Promise<LogPage> {
    const first = args.first ?? DEFAULT_PAGE;
    if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE)
      throw new HubError("BAD_USER_INPUT", `first must be between 1 and ${MAX_PAGE}.`, {
        field: "first",
      });
    const afterSeq = args.after ? await this.positionOf(args.after) : 0;
    // After a cursor: CURSOR_EXPIRED rather than a page with a hole, should the retention prune
    // past it between the check above and this read.
    const read = args.after
      ? await this.log.readAfterCursor(afterSeq, filterOf(args), first + 1)
      : await this.log.read(afterSeq, filterOf(args), first + 1);
    const entries = read.slice(0, first);
    return { entries, hasMore: read.length > first };
  }

  /** A live stream: after `after` when given (missed entries first), otherwise from now on. */
  async stream(args: FeedArgs): Promise<AsyncIterableIterator<CardEventDocument>> {
    const afterSeq = args.after ? await this.positionOf(args.after) : await this.log.newestSeq();
    return tailLog({ log: this.log, tail: this.tail, filter: filterOf(args), afterSeq });
  }
}

function filterOf(args: FeedArgs): LogFilter {
  return { personId: args.personId ?? null, types: args.types ?? null };
}
