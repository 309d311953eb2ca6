import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** One span as the hub's processes exported it (OTLP/HTTP, JSON encoding). */
export interface ReceivedSpan {
  /** `service.name` of the process that sent it: `gateway`, `cards`, … */
  service: string;
  traceId: string;
  spanId: string;
  /** Empty for a trace's root. */
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  attributes: Record<string, unknown>;
  links: { traceId: string; spanId: string }[];
}

interface AnyValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: AnyValue[] };
}

interface KeyValue {
  key: string;
  value?: AnyValue;
}

interface ExportRequest {
  resourceSpans?: {
    resource?: { attributes?: KeyValue[] };
    scopeSpans?: {
      spans?: {
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind?: number;
        attributes?: KeyValue[];
        links?: { traceId: string; spanId: string }[];
      }[];
    }[];
  }[];
}

function valueOf(value: AnyValue | undefined): unknown {
  if (!value) return undefined;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(valueOf);
  return undefined;
}

function attributesOf(list: KeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, valueOf(kv.value)]));
}

/** The spans of one OTLP/HTTP JSON export request (ExportTraceServiceRequest). */
export function decodeExport(body: ExportRequest): ReceivedSpan[] {
  return (body.resourceSpans ?? []).flatMap((resourceSpans) => {
    const service = String(attributesOf(resourceSpans.resource?.attributes)["service.name"]);
    return (resourceSpans.scopeSpans ?? []).flatMap((scope) =>
      (scope.spans ?? []).map((span) => ({
        service,
        traceId: span.traceId,
        spanId: span.spanId,
        parentSpanId: span.parentSpanId ?? "",
        name: span.name,
        kind: span.kind ?? 0,
        attributes: attributesOf(span.attributes),
        links: (span.links ?? []).map(({ traceId, spanId }) => ({ traceId, spanId })),
      })),
    );
  });
}

export interface OtlpReceiver {
  /** The base URL to give HUB_OTLP_ENDPOINT. */
  url: string;
  spans: ReceivedSpan[];
  /** Export requests received (any outcome). */
  requests: number;
  /** `hang`: accept export requests and never answer them (a collector that stalls). */
  mode: "answer" | "hang";
  /** Stops listening (a collector that is down); `start` listens again on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
}

/**
 * A stand-in OpenTelemetry collector: an HTTP server taking OTLP/HTTP exports at `/v1/traces`
 * in the JSON encoding (what the hub's exporter sends) and keeping their spans.
 */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  let server: Server;
  let port = 0;
  const hanging = new Set<import("node:http").ServerResponse>();
  const receiver: OtlpReceiver = {
    url: "",
    spans: [],
    requests: 0,
    mode: "answer",
    async stop() {
      for (const response of hanging) response.destroy();
      hanging.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
    async start() {
      server = createServer((request, response) => {
        const chunks: Buffer[] = [];
        request.on("data", (chunk: Buffer) => chunks.push(chunk));
        request.on("end", () => {
          receiver.requests += 1;
          if (receiver.mode === "hang") {
            hanging.add(response);
            return;
          }
          if (request.url !== "/v1/traces" || !request.headers["content-type"]?.includes("json")) {
            response.writeHead(415).end();
            return;
          }
          receiver.spans.push(
            ...decodeExport(JSON.parse(Buffer.concat(chunks).toString("utf8")) as ExportRequest),
          );
          response.writeHead(200, { "content-type": "application/json" }).end("{}");
        });
      });
      await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
      port = (server.address() as AddressInfo).port;
      receiver.url = `http://127.0.0.1:${port}`;
    },
  };
  await receiver.start();
  return receiver;
}
