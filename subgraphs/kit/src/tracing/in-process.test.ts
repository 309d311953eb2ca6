import { context, propagation, trace } from "@opentelemetry/api";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-node";
import { afterAll, expect, it } from "vitest";
import { startTracing, type RunningTracing } from "./start.js";

/**
 * A hub started inside a test's own process (the harness's in-process hub) is traced when
 * tracing starts before the modules it instruments are loaded: here they are imported only once
 * it has (as a vitest setup file would do it before a test file's imports).
 */
let running: RunningTracing | null = null;
const stops: (() => Promise<unknown>)[] = [];

afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
  await running?.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
});

it("instruments MongoDB and the HTTP server loaded after it starts", async () => {
  const exporter = new InMemorySpanExporter();
  running = await startTracing(
    "hub",
    { HUB_OTLP_ENDPOINT: "http://collector:4318" },
    {
      exporter,
      instrument: true,
    },
  );
  const { startEmbeddedMongo } = await import("../mongo/embedded-mongo.js");
  const { connectMongo } = await import("../mongo/connect.js");
  const { buildSchema, graphql } = await import("graphql");
  const { createServer } = await import("node:http");

  const mongo = await startEmbeddedMongo();
  stops.push(() => mongo.stop());
  const client = await connectMongo(mongo.uri);
  stops.push(() => client.close());
  const schema = buildSchema("type Query { hello: String }");
  const server = createServer((request, response) => {
    void (async () => {
      await client.db("traced").collection("things").insertOne({ secret: "440106198506150101" });
      const result = await graphql({ schema, source: "{ hello }", rootValue: { hello: "hi" } });
      response.end(JSON.stringify(result));
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  stops.push(() => new Promise((resolve) => server.close(resolve)));
  const { port } = server.address() as import("node:net").AddressInfo;
  expect(
    await (await fetch(`http://127.0.0.1:${port}/graphql`, { method: "POST" })).json(),
  ).toEqual({ data: { hello: "hi" } });

  await running!.flush();
  const spans = exporter.getFinishedSpans();
  const served = spans.find((s) => s.name === "POST /graphql");
  expect(served, spans.map((s) => s.name).join(", ")).toBeDefined();
  const below = spans.filter((s) => s.parentSpanContext?.spanId === served!.spanContext().spanId);
  expect(below.map((s) => s.name)).toContain("insert things");
  // The command's shape, no value of it.
  const insert = below.find((s) => s.name === "insert things")!;
  expect(insert.attributes["db.query.text"]).toContain('"secret":"?"');
  expect(JSON.stringify(spans.map((s) => s.attributes))).not.toContain("440106198506150101");
  // graphql-js is not: vitest resolves `graphql` to its ES module build (graphql/index.mjs), which
  // require hooks do not see. Plain Node (a bundled process, tsx) loads its CommonJS build, which
  // they do (test/src/traces.test.ts sees the subgraphs' GraphQL spans).
  expect(below.map((s) => s.name)).not.toContain("graphql.parse");

  // A GraphQL call whose caller did not sample its trace yields no span, nor does anything it does
  // (the instrumentation ignores it: start.ts); one whose caller did is traced.
  const call = async (traceId: string, flags: string) => {
    const answer = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: "POST",
      headers: { traceparent: `00-${traceId}-b7ad6b7169203331-${flags}` },
    });
    expect(answer.status).toBe(200);
    await answer.arrayBuffer();
  };
  const notSampled = "0af7651916cd43dd8448eb211c80319c";
  const sampled = "1af7651916cd43dd8448eb211c80319c";
  await call(notSampled, "00");
  await call(sampled, "01");
  await running!.flush();
  const traced = exporter.getFinishedSpans();
  expect(traced.filter((s) => s.spanContext().traceId === notSampled)).toEqual([]);
  expect(
    traced
      .filter((s) => s.spanContext().traceId === sampled)
      .map((s) => s.name)
      .sort(),
  ).toEqual(["POST /graphql", "insert things"]);
});
