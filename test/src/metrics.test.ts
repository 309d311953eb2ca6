import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { siblingUrl } from "@hub/kit";
import { load } from "js-yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { codeOf, freshIdNumber, personWithCard, run } from "./support/cards.js";
import { eventually } from "./support/eventually.js";
import { contractOperation, graphql, token, useTestHub } from "./support/hub.js";
import {
  metricNamesIn,
  promtool,
  requirePromtool,
  samplesOf,
  valueOf,
} from "./support/prometheus.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const RULES = join(ROOT, "deploy", "prometheus", "alerts.yaml");
const RULE_TESTS = join(ROOT, "deploy", "prometheus", "alerts.test.yaml");
const OPERATIONS_DOC = join(ROOT, "docs", "operations.md");
const METRICS_TOKEN = "metrics-token-for-metrics-tests";

beforeAll(requirePromtool);
const hub = useTestHub({ gateway: { metricsToken: METRICS_TOKEN } });

const gatewayMetrics = async () => {
  const response = await fetch(new URL("/metrics", hub().gateway.url), {
    headers: { authorization: `Bearer ${METRICS_TOKEN}` },
  });
  expect(response.status).toBe(200);
  return response.text();
};
const subgraphMetrics = async (name: string) => {
  const response = await fetch(siblingUrl(hub().subgraphs.get(name)!.url, "/metrics"));
  expect(response.status).toBe(200);
  return response.text();
};

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const rules = async () =>
  (load(await readFile(RULES, "utf8")) as { groups: { rules: Rule[] }[] }).groups.flatMap(
    (g) => g.rules,
  );

/** Scrapes taken while a subgraph was down and after it came back (see beforeAll). */
let whileDown: { gateway: string; cards: string };
let after: { gateway: string; cards: string; feed: string };

beforeAll(async () => {
  const url = hub().gateway.url;
  const personCards = await contractOperation("PersonCards");
  const idNumber = hub().demo!.persons[0]!.idNumber;
  // Answered; answered with a domain error; refused without a token; an operation the gateway does
  // not know, under a name a client made up.
  expect((await graphql(url, personCards, { idNumber }, await token())).errors).toBeUndefined();
  expect(codeOf(await graphql(url, personCards, { idNumber: "bad" }, await token()))).toBe(
    "INVALID_ID_NUMBER",
  );
  expect(codeOf(await graphql(url, personCards, { idNumber }, null))).toBe("UNAUTHENTICATED");
  await graphql(url, "query MadeUp123 { __typename }", {}, await token({ channel: "APP" }));
  // A batch: each operation counted under its own name.
  const batch = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      authorization: `Bearer ${await token({ channel: "HOSPITAL" })}`,
    },
    body: JSON.stringify([
      { query: personCards, variables: { idNumber } },
      { query: "query Other2 { __typename }" },
    ]),
  });
  expect(batch.status).toBe(200);
  // Turned away by the server before the runtime reads it: larger than the body limit.
  const tooLarge = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${await token()}` },
    body: JSON.stringify({ query: `{ __typename }${" ".repeat(200_000)}` }),
  });
  expect(tooLarge.status).toBe(413);
  // Events on every lane of cards.
  await personWithCard(url);
  // bank-accounts down: its part of PersonCards is SERVICE_UNAVAILABLE, and the event cards sends
  // it waits on its lane, retried.
  await hub().stopSubgraph("bank-accounts");
  try {
    const partial = await graphql(url, personCards, { idNumber }, await token());
    expect(partial.errors?.map((e) => e.extensions?.["code"])).toContain("SERVICE_UNAVAILABLE");
    const registered = await run<{ registerPerson: { person: { id: string } } }>(
      url,
      "RegisterPerson",
      { idNumber: freshIdNumber(), name: "测试人" },
    );
    await run(url, "IssueCard", {
      personId: registered.data!.registerPerson.person.id,
      province: "44",
      issuingBank: "中国工商银行",
    });
    whileDown = await eventually(async () => {
      const gateway = await gatewayMetrics();
      const lane = { subgraph: "cards", lane: "bank-accounts" };
      expect(valueOf(gateway, "hub_event_lane_failed_deliveries", lane)).toBeGreaterThan(0);
      return { gateway, cards: await subgraphMetrics("cards") };
    }, 20_000);
  } finally {
    await hub().startSubgraph("bank-accounts");
  }
  after = await eventually(async () => {
    const gateway = await gatewayMetrics();
    const lane = { subgraph: "cards", lane: "bank-accounts" };
    expect(valueOf(gateway, "hub_outbox_pending", lane)).toBe(0);
    expect(valueOf(gateway, "hub_event_lane_failed_deliveries", lane)).toBe(0);
    return { gateway, cards: await subgraphMetrics("cards"), feed: await subgraphMetrics("feed") };
  }, 30_000);
}, 120_000);

describe("/metrics as Prometheus reads it (promtool check metrics)", () => {
  it("the gateway's passes", async () => {
    for (const text of [whileDown.gateway, after.gateway]) {
      const checked = await promtool(["check", "metrics"], text);
      expect(checked.output).toBe("");
      expect(checked.code).toBe(0);
    }
  });

  it("a subgraph's passes: cards (its relay's lanes) and the feed (with its own streams)", async () => {
    for (const text of [whileDown.cards, after.cards, after.feed]) {
      const checked = await promtool(["check", "metrics"], text);
      expect(checked.output).toBe("");
      expect(checked.code).toBe(0);
    }
    expect(after.feed).toContain("hub_feed_subscriptions_open ");
  });
});

describe("what the metrics say", () => {
  it("per operation and channel: requests, errors by code, latency; unknown operations are `other`", () => {
    const text = after.gateway;
    const op = { operation: "PersonCards", channel: "COUNTER" };
    expect(valueOf(text, "hub_graphql_requests_total", op)).toBeGreaterThanOrEqual(3);
    expect(valueOf(text, "hub_graphql_errors_total", { ...op, code: "INVALID_ID_NUMBER" })).toBe(1);
    expect(valueOf(text, "hub_graphql_errors_total", { ...op, code: "SERVICE_UNAVAILABLE" })).toBe(
      1,
    );
    expect(
      valueOf(text, "hub_graphql_errors_total", {
        operation: "PersonCards",
        channel: "none",
        code: "UNAUTHENTICATED",
      }),
    ).toBe(1);
    expect(valueOf(text, "hub_graphql_request_duration_seconds_count", op)).toBeGreaterThanOrEqual(
      3,
    );
    expect(
      valueOf(text, "hub_graphql_request_duration_seconds_bucket", { ...op, le: "+Inf" }),
    ).toBeGreaterThanOrEqual(3);
    expect(
      valueOf(text, "hub_graphql_requests_total", { operation: "other", channel: "APP" }),
    ).toBe(1);
    expect(
      valueOf(text, "hub_graphql_errors_total", {
        operation: "other",
        channel: "none",
        code: "QUERY_TOO_COMPLEX",
      }),
    ).toBe(1);
    for (const operation of ["PersonCards", "other"])
      expect(valueOf(text, "hub_graphql_requests_total", { operation, channel: "HOSPITAL" })).toBe(
        1,
      );
    // No label value a client chose.
    expect(text).not.toContain("MadeUp123");
  });

  it("per subgraph fetch: latency and errors by code; each subgraph up or down", () => {
    expect(
      valueOf(after.gateway, "hub_subgraph_fetch_duration_seconds_count", { subgraph: "cards" }),
    ).toBeGreaterThan(0);
    expect(
      valueOf(after.gateway, "hub_subgraph_fetch_errors_total", {
        subgraph: "persons",
        code: "INVALID_ID_NUMBER",
      }),
    ).toBe(1);
    expect(
      valueOf(after.gateway, "hub_subgraph_fetch_errors_total", {
        subgraph: "bank-accounts",
        code: "DOWNSTREAM_SERVICE_ERROR",
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(valueOf(whileDown.gateway, "hub_subgraph_up", { subgraph: "bank-accounts" })).toBe(0);
    expect(valueOf(whileDown.gateway, "hub_subgraph_up", { subgraph: "cards" })).toBe(1);
    expect(valueOf(after.gateway, "hub_subgraph_up", { subgraph: "bank-accounts" })).toBe(1);
  });

  it("per lane: pending and lag while the receiver is down, retries, deliveries, dead letters", () => {
    const lane = { subgraph: "cards", lane: "bank-accounts" };
    expect(valueOf(whileDown.gateway, "hub_outbox_pending", lane)).toBeGreaterThan(0);
    expect(valueOf(whileDown.gateway, "hub_outbox_lag_seconds", lane)).toBeGreaterThan(0);
    expect(valueOf(after.gateway, "hub_outbox_lag_seconds", lane)).toBe(0);
    expect(valueOf(after.gateway, "hub_event_lane_failed_deliveries", lane)).toBe(0);
    expect(valueOf(after.gateway, "hub_event_dead_letters", lane)).toBe(0);
    expect(
      valueOf(after.cards, "hub_event_delivery_failures_total", { lane: "bank-accounts" }),
    ).toBeGreaterThan(0);
    expect(
      valueOf(after.cards, "hub_events_delivered_total", { lane: "bank-accounts" }),
    ).toBeGreaterThanOrEqual(2);
    expect(valueOf(after.cards, "hub_events_dead_lettered_total", { lane: "passwords" })).toBe(0);
  });
});

describe("alert rules (deploy/prometheus/alerts.yaml)", () => {
  it("pass promtool check rules", async () => {
    const checked = await promtool(["check", "rules", RULES]);
    expect(checked.code, checked.output).toBe(0);
    expect(checked.output).toContain("SUCCESS");
  });

  it("fire for what each is meant for, once, with its annotations (promtool test rules)", async () => {
    const tested = await promtool(["test", "rules", RULE_TESTS]);
    expect(tested.code, tested.output).toBe(0);
    // Every alert has a case where it fires (and so its annotations are checked as rendered).
    const cases = (
      load(await readFile(RULE_TESTS, "utf8")) as {
        tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
      }
    ).tests.flatMap((t) => t.alert_rule_test);
    const firing = new Set(cases.filter((c) => c.exp_alerts.length > 0).map((c) => c.alertname));
    expect((await rules()).map((r) => r.alert).filter((name) => !firing.has(name))).toEqual([]);
  });

  it("cover error ratio, p99 latency, event lag, dead letters and a subgraph down", async () => {
    const exprs = (await rules()).map((r) => r.expr).join("\n");
    expect(exprs).toMatch(/hub_graphql_errors_total[\s\S]*\/[\s\S]*hub_graphql_requests_total/);
    expect(exprs).toMatch(/histogram_quantile\(0\.99,\s*sum by \(operation, le\)/);
    expect(exprs).toContain("hub_outbox_lag_seconds");
    expect(exprs).toContain("hub_event_dead_letters");
    expect(exprs).toContain("hub_subgraph_up");
  });

  it("read only series a live hub exports (after traffic, an error and a subgraph down)", async () => {
    const exported = new Set(
      [whileDown.gateway, after.gateway, after.cards].flatMap((t) =>
        samplesOf(t).map((s) => s.name),
      ),
    );
    const read = new Map<string, string[]>();
    for (const rule of await rules()) read.set(rule.alert, metricNamesIn(rule.expr));
    // The extraction itself: the error ratio reads two series and no function, label or keyword.
    expect(read.get("HubHighErrorRatio")!.sort()).toEqual([
      "hub_graphql_errors_total",
      "hub_graphql_requests_total",
    ]);
    const missing = [...read].flatMap(([alert, names]) =>
      names.filter((name) => !exported.has(name)).map((name) => `${alert}: ${name}`),
    );
    expect(missing).toEqual([]);
    // The rules' unit tests feed them series the hub exports too.
    const fed = (
      load(await readFile(RULE_TESTS, "utf8")) as {
        tests: { input_series: { series: string }[] }[];
      }
    ).tests.flatMap((t) => t.input_series.map((i) => i.series.split("{")[0]!));
    expect(fed.filter((name) => !exported.has(name))).toEqual([]);
  });

  it("each has a severity, a summary, a description and a runbook section in docs/operations.md", async () => {
    const doc = await readFile(OPERATIONS_DOC, "utf8");
    const anchors = new Set(
      [...doc.matchAll(/^#+\s+(.+)$/gm)].map((m) =>
        m[1]!
          .trim()
          .toLowerCase()
          .replace(/[^\w\- ]/g, "")
          .replace(/ /g, "-"),
      ),
    );
    for (const rule of await rules()) {
      expect(rule.labels?.["severity"], rule.alert).toMatch(/^(critical|warning)$/);
      expect(rule.annotations?.["summary"], rule.alert).toBeTruthy();
      expect(rule.annotations?.["description"], rule.alert).toBeTruthy();
      const runbook = rule.annotations?.["runbook"] ?? "";
      expect(runbook, rule.alert).toMatch(/^docs\/operations\.md#/);
      expect(anchors.has(runbook.split("#")[1]!), `${rule.alert}: ${runbook}`).toBe(true);
    }
  });
});
