import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";

import { LIMITS } from "../src/contract";
import { base64url, createTracker, isoWithOffset, type Rejection, type Tracker, type TrackerOptions, type UserEvent } from "../src/index";

class MemoryStorage {
  private items = new Map<string, string>();
  get length(): number {
    return this.items.size;
  }
  key(index: number): string | null {
    return [...this.items.keys()][index] ?? null;
  }
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
}

interface Sent {
  url: string;
  headers: Record<string, string>;
  events: UserEvent[];
  keepalive: boolean;
}

/** A stand-in for the ingest API: answers from a script, then 200 accepting everything. */
function api(script: ((events: UserEvent[]) => Response)[] = []) {
  const sent: Sent[] = [];
  const fetch = async (url: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const events = (JSON.parse(String(init?.body)) as { events: UserEvent[] }).events;
    sent.push({ url: String(url), headers: init?.headers as Record<string, string>, events, keepalive: !!init?.keepalive });
    const answer = script.shift();
    if (answer) return answer(events);
    return Response.json({ accepted: events.length, rejected: [], failed: [] });
  };
  return { sent, fetch: fetch as typeof globalThis.fetch };
}

const trackers: Tracker[] = [];
function tracker(overrides: Partial<TrackerOptions> = {}): Tracker {
  const made = createTracker({
    endpoint: "https://edge.example.com/events",
    beaconUrl: "https://edge.example.com/collect",
    apiKey: "key-123",
    userId: () => "user-1",
    storage: new MemoryStorage(),
    flushIntervalMs: 60_000,
    retryBaseMs: 1,
    retryMaxMs: 2,
    // Never the real network: a test that sends says where to.
    fetch: (async () => {
      throw new TypeError("no network in tests");
    }) as typeof globalThis.fetch,
    ...overrides,
  });
  trackers.push(made);
  return made;
}
afterEach(() => trackers.splice(0).forEach((t) => t.setConsent(false)));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("track", () => {
  it("builds contract-valid events with a client eventId, createdAt with an offset and the page's user", () => {
    const t = tracker({ now: () => new Date(Date.UTC(2026, 2, 1, 12, 15, 0, 250)) });
    const id = t.track("viewDoc", { objectId: "doc-1", bizId: "biz-news", errorMsg: "[error] boom" });
    const [event] = t.pending();
    assert.equal(event.eventId, id);
    assert.match(event.eventId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.match(event.createdAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{2}:\d{2}$/);
    assert.equal(Date.parse(event.createdAt), Date.UTC(2026, 2, 1, 12, 15, 0, 250));
    assert.deepEqual({ ...event, eventId: "", createdAt: "" }, {
      eventId: "", createdAt: "", action: "viewDoc", userId: "user-1", objectId: "doc-1", bizId: "biz-news",
      errorMsg: "[error] boom",
    });
  });

  it("refuses what the contract refuses, counting characters as the contract does", () => {
    const t = tracker();
    assert.throws(() => t.track("", { objectId: "o", bizId: "b" }), /action: required text/);
    assert.throws(() => t.track("a", { objectId: "x".repeat(LIMITS.objectId + 1), bizId: "b" }), /objectId: longer than 64/);
    // 64 emoji are 128 UTF-16 units but 64 characters: within the contract's bound.
    assert.ok(t.track("a", { objectId: "💥".repeat(64), bizId: "b" }));
    assert.equal(t.pending().length, 1);
  });

  it("records nothing without a user or without consent", () => {
    let user: string | null = null;
    const t = tracker({ userId: () => user });
    assert.equal(t.track("viewDoc", { objectId: "o", bizId: "b" }), null);
    user = "u";
    t.setConsent(false);
    assert.equal(t.track("viewDoc", { objectId: "o", bizId: "b" }), null);
    assert.deepEqual(t.pending(), []);
  });

  it("formats local time with its offset", () => {
    const date = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6));
    assert.equal(Date.parse(isoWithOffset(date)), date.getTime());
  });
});

describe("sending", () => {
  it("sends batches of at most batchSize with the API key, and empties the queue", async () => {
    const { sent, fetch } = api();
    const t = tracker({ fetch, batchSize: 100 });
    for (let i = 0; i < 250; i++) t.track("viewDoc", { objectId: `o${i}`, bizId: "b" });
    await t.flush();
    await t.flush();
    await sleep(5);
    assert.deepEqual(sent.map((s) => s.events.length), [100, 100, 50]);
    assert.equal(sent[0].headers["x-api-key"], "key-123");
    assert.equal(sent[0].headers["content-type"], "application/json");
    assert.ok(sent.every((s) => s.keepalive));
    assert.equal(new Set(sent.flatMap((s) => s.events.map((e) => e.eventId))).size, 250);
    assert.deepEqual(t.pending(), []);
  });

  it("retries a 503 and a network error with backoff, honouring Retry-After, and loses nothing", async () => {
    const { sent, fetch } = api([
      () => new Response(JSON.stringify({ message: "busy" }), { status: 503, headers: { "retry-after": "0" } }),
      () => {
        throw new TypeError("network down");
      },
    ]);
    const t = tracker({ fetch });
    t.track("viewDoc", { objectId: "o1", bizId: "b" });
    t.track("buy", { objectId: "o2", bizId: "b" });
    await t.flush();
    assert.equal(t.pending().length, 2);
    await sleep(10);
    await t.flush();
    await sleep(10);
    await t.flush();
    assert.deepEqual(t.pending(), []);
    assert.equal(sent.length, 3);
    assert.deepEqual(sent[2].events, sent[0].events);
  });

  it("resends only the events answered as failed, and never the rejected ones", async () => {
    const rejections: Rejection[] = [];
    const { sent, fetch } = api([
      () =>
        Response.json({
          accepted: 1,
          rejected: [{ index: 1, errors: ["createdAt: must be from ..."] }],
          failed: [{ index: 2, eventId: "x", error: "ProvisionedThroughputExceededException", retryable: true }],
        }),
    ]);
    const t = tracker({ fetch, onRejected: (r) => rejections.push(...r) });
    const ids = ["a", "b", "c"].map((o) => t.track("viewDoc", { objectId: o, bizId: "b" }));
    await t.flush();
    assert.deepEqual(t.pending().map((e) => e.eventId), [ids[2]]);
    assert.deepEqual(rejections.map((r) => [r.event.eventId, r.errors]), [[ids[1], ["createdAt: must be from ..."]]]);
    await sleep(10);
    await t.flush();
    assert.deepEqual(sent[1].events.map((e) => e.eventId), [ids[2]]);
    assert.deepEqual(t.pending(), []);
  });

  it("drops the rejected events of a 503 and retries the rest", async () => {
    const rejections: Rejection[] = [];
    const { sent, fetch } = api([
      () =>
        Response.json(
          { accepted: 0, rejected: [{ index: 0, errors: ["objectId: too long"] }], failed: [{ index: 1 }] },
          { status: 503, headers: { "retry-after": "0" } },
        ),
    ]);
    const t = tracker({ fetch, onRejected: (r) => rejections.push(...r) });
    const ids = ["a", "b"].map((o) => t.track("viewDoc", { objectId: o, bizId: "b" }));
    await t.flush();
    assert.deepEqual(t.pending().map((e) => e.eventId), [ids[1]]);
    assert.deepEqual(rejections.map((r) => r.event.eventId), [ids[0]]);
    await sleep(10);
    await t.flush();
    assert.deepEqual(sent[1].events.map((e) => e.eventId), [ids[1]]);
    assert.deepEqual(t.pending(), []);
  });

  it("drops a batch the API refuses whole (4xx other than 429) and says why", async () => {
    const rejections: Rejection[] = [];
    const { fetch } = api([() => Response.json({ message: "Forbidden" }, { status: 403 })]);
    const t = tracker({ fetch, onRejected: (r) => rejections.push(...r) });
    t.track("viewDoc", { objectId: "o", bizId: "b" });
    await t.flush();
    assert.deepEqual(t.pending(), []);
    assert.deepEqual(rejections[0].errors, ["Forbidden"]);
  });
});

describe("page hide", () => {
  it("sends what waits as beacons with the events base64url-encoded in the URL, each URL under 8 KB", () => {
    const urls: string[] = [];
    const t = tracker({ sendBeacon: (url) => (urls.push(url), true) });
    for (let i = 0; i < 60; i++) t.track("viewDoc", { objectId: `doc-${i}`, bizId: "biz-news", errorMsg: "é".repeat(40) });
    t.flushOnHide();
    assert.ok(urls.length > 1);
    const events = urls.flatMap((url) => {
      assert.ok(url.length < 8000, `${url.length}`);
      const [base, query] = url.split("?e=");
      assert.equal(base, "https://edge.example.com/collect");
      assert.match(query, /^[A-Za-z0-9_-]+$/);
      const json = Buffer.from(query.replace(/-/g, "+").replace(/_/g, "/"), "base64").toString("utf-8");
      return (JSON.parse(json) as { events: UserEvent[] }).events;
    });
    assert.equal(events.length, 60);
    assert.equal(events[59].errorMsg, "é".repeat(40));
    assert.deepEqual(t.pending(), []);
  });

  it("keeps what the browser would not queue, for the next page", () => {
    const storage = new MemoryStorage();
    const t = tracker({ storage, sendBeacon: () => false });
    t.track("viewDoc", { objectId: "o", bizId: "b" });
    t.flushOnHide();
    assert.equal(t.pending().length, 1);
    const next = tracker({ storage });
    assert.deepEqual(next.pending().map((e) => e.objectId), ["o"]);
    assert.equal(storage.length, 1); // adopted: the old page's entry is gone, the new page's holds the event
  });

  it("does not beacon events whose request is still on its way", async () => {
    let release: (r: Response) => void = () => undefined;
    const fetch = (() => new Promise<Response>((resolve) => (release = resolve))) as typeof globalThis.fetch;
    const urls: string[] = [];
    const t = tracker({ fetch, sendBeacon: (url) => (urls.push(url), true) });
    t.track("viewDoc", { objectId: "o1", bizId: "b" });
    const pending = t.flush();
    t.track("viewDoc", { objectId: "o2", bizId: "b" });
    t.flushOnHide();
    assert.equal(urls.length, 1);
    assert.match(Buffer.from(urls[0].split("e=")[1], "base64url").toString(), /"objectId":"o2"/);
    release(Response.json({ accepted: 1, rejected: [], failed: [] }));
    await pending;
    assert.deepEqual(t.pending(), []);
  });
});

describe("the local queue", () => {
  it("survives a reload, and another live tab's queue is left to that tab", () => {
    const storage = new MemoryStorage();
    const first = tracker({ storage });
    first.track("viewDoc", { objectId: "o1", bizId: "b" });
    const otherTab = tracker({ storage });
    assert.deepEqual(otherTab.pending(), []); // the first tab is alive: its queue is its own
    first.flushOnHide(); // no beacon function here: the queue is released for the next page
    const reloaded = tracker({ storage });
    assert.deepEqual(reloaded.pending().map((e) => e.objectId), ["o1"]);
  });

  it("is erased by the consent kill switch", () => {
    const storage = new MemoryStorage();
    const t = tracker({ storage });
    t.track("viewDoc", { objectId: "o1", bizId: "b" });
    assert.equal(storage.length, 1);
    t.setConsent(false);
    assert.equal(storage.length, 0);
    assert.deepEqual(t.pending(), []);
  });
});

describe("base64url", () => {
  it("is RFC 4648 base64url of UTF-8 without padding", () => {
    assert.equal(base64url('{"a":"é?"}'), Buffer.from('{"a":"é?"}').toString("base64url"));
  });
});
