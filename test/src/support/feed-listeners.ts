import { createClient as createSseClient } from "graphql-sse";
import { createClient as createWsClient } from "graphql-ws";
import WebSocket from "ws";
import type { CardEventView } from "./feed-subscriber.js";

export interface WireError {
  message?: string;
  extensions?: Record<string, unknown>;
}

export type Transport = "sse" | "ws";

/** One subscription, collecting what arrives. */
export interface Listener {
  readonly events: CardEventView[];
  readonly errors: WireError[];
  readonly completed: boolean;
  /** Resolves once the stream is open (SSE: the response came; WebSocket: the server acked). */
  readonly connected: Promise<void>;
  close(): void;
}

/** The gateway's WebSocket URL for its HTTP /graphql URL. */
export function webSocketUrl(httpUrl: string): string {
  return httpUrl.replace(/^http/, "ws");
}

function asWireErrors(error: unknown): WireError[] {
  if (Array.isArray(error)) return error as WireError[];
  if (error instanceof Error) return [{ message: error.message }];
  // A CloseEvent or any other value: keep its description for the assertion's message.
  return [{ message: String((error as { reason?: unknown })?.reason ?? error) }];
}

/**
 * Subscribes to `document` through the gateway with graphql-sse's client (GraphQL over SSE,
 * distinct connections) or graphql-ws's (`graphql-transport-ws`, the token in connectionParams),
 * as a channel would; `bearer` null sends no token at all.
 */
export function listen(
  transport: Transport,
  url: string,
  document: string,
  variables: Record<string, unknown>,
  bearer: string | null,
): Listener {
  const events: CardEventView[] = [];
  const errors: WireError[] = [];
  let completed = false;
  let markConnected: () => void = () => undefined;
  const connected = new Promise<void>((resolve) => (markConnected = resolve));
  const sink = {
    next: (result: { data?: unknown; errors?: readonly unknown[] }) => {
      if (result.errors) errors.push(...(result.errors as WireError[]));
      const data = result.data as { cardEvents?: CardEventView } | null | undefined;
      if (data?.cardEvents) events.push(data.cardEvents);
    },
    error: (error: unknown) => {
      errors.push(...asWireErrors(error));
    },
    complete: () => {
      completed = true;
    },
  };
  let dispose: () => void;
  if (transport === "sse") {
    const client = createSseClient({
      url,
      headers: bearer ? { authorization: `Bearer ${bearer}` } : {},
      retryAttempts: 0,
    });
    const unsubscribe = client.subscribe({ query: document, variables }, sink, {
      connected: () => markConnected(),
    });
    dispose = () => {
      unsubscribe();
      client.dispose();
    };
  } else {
    const client = createWsClient({
      url: webSocketUrl(url),
      webSocketImpl: WebSocket,
      connectionParams: bearer ? { authorization: `Bearer ${bearer}` } : {},
      retryAttempts: 0,
      on: { connected: () => markConnected() },
    });
    const unsubscribe = client.subscribe({ query: document, variables }, sink);
    dispose = () => {
      unsubscribe();
      void client.dispose();
    };
  }
  return {
    events,
    errors,
    get completed() {
      return completed;
    },
    connected,
    close: () => dispose(),
  };
}
