import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { parseEventBatch } from "../events/event-batch.js";
import type { HubEvent } from "../events/hub-event.js";

/** One delivery an events receiver was sent: its method, headers and events. */
export interface Delivery {
  method: string | undefined;
  headers: IncomingHttpHeaders;
  events: HubEvent[];
}

/** A receiver's answer to a delivery: its status (200 when absent) and JSON body. */
export interface Reply {
  status?: number;
  body: unknown;
}

/** The answer of a receiver that applied every event of the delivery. */
export const appliedAll = (events: HubEvent[]): Reply => ({
  body: { applied: events.length, pending: {} },
});

/**
 * A receiving subgraph's `/events` stand-in on a free port: records each delivery (method,
 * headers, events) and answers as `reply` says (by default: every event applied). `close` stops
 * it, its connections too.
 */
export async function eventsReceiver(
  reply: (events: HubEvent[], index: number) => Reply | Promise<Reply> = appliedAll,
) {
  const deliveries: Delivery[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const events = parseEventBatch(Buffer.concat(chunks).toString()) ?? [];
      const index =
        deliveries.push({ method: request.method, headers: request.headers, events }) - 1;
      void Promise.resolve(reply(events, index)).then(({ status = 200, body }) =>
        response
          .writeHead(status, { "content-type": "application/json" })
          .end(JSON.stringify(body)),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`,
    deliveries,
    /** The cards of each delivery's events, delivery by delivery. */
    batches: () => deliveries.map((d) => d.events.map((event) => String(event.payload["cardId"]))),
    close: (): Promise<void> => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
