/**
 * The web tracker: `track(action, { objectId, bizId, errorMsg })` from a page to the platform.
 *
 * - Events are contract-valid when they leave (`contract.ts` is generated from the event
 *   contract): a client-generated `eventId`, `createdAt` in local time with its offset, the
 *   `userId` the host page gives; an event the contract would refuse is refused here.
 * - They are queued in `localStorage` (one entry per tab, so a reload keeps them) and sent in
 *   batches of at most 500 events and 1 MiB to `POST /events`.
 * - A batch that fails (network error, 429, 5xx) is retried with exponential backoff and full
 *   jitter, at least as late as `Retry-After`; events the API answers as `failed` are retried
 *   alone; events it answers as `rejected` are never retried (`onRejected` hears about them).
 * - When the page is hidden, what is queued and not already on its way leaves as beacons:
 *   `navigator.sendBeacon(beaconUrl + "?e=" + base64url(JSON))`, answered at the edge and
 *   collected from CloudFront's real-time log. A beacon's events travel in its URL, because
 *   neither a CloudFront Function nor the log ever sees a request body.
 * - `setConsent(false)` is the kill switch: nothing is recorded or sent, and the queue is erased.
 */
import { LIMITS, MAX_BODY_BYTES, MAX_EVENTS_PER_REQUEST, REQUIRED, type UserEvent } from "./contract";

export type { UserEvent } from "./contract";

export interface Details {
  objectId: string;
  bizId: string;
  errorMsg?: string;
}

export interface Rejection {
  event: UserEvent;
  errors: string[];
}

export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
  key(index: number): string | null;
  readonly length: number;
}

export interface TrackerOptions {
  /** `https://<edge or API>/events`. */
  endpoint: string;
  /** The edge's beacon URL (`https://<edge>/collect`); without it, page hide flushes with `fetch(keepalive)`. */
  beaconUrl?: string;
  /** Sent as `x-api-key`; a web page's key is public, the usage plan meters it. */
  apiKey?: string;
  /** Who the user is, from the host page; events are not recorded while it returns nothing. */
  userId: () => string | null | undefined;
  /** Start with consent given (default) or not. */
  consent?: boolean;
  /** Events per request, at most 500 (default 100). */
  batchSize?: number;
  /** How long an event may wait for more before a batch is sent (default 2000 ms). */
  flushIntervalMs?: number;
  /** Oldest events are dropped beyond this many (default 1000). */
  maxQueue?: number;
  /** Backoff of retries: the first ceiling, doubled each time up to the second (default 500, 60000 ms). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  storageKey?: string;
  storage?: StorageLike | null;
  onRejected?: (rejections: Rejection[]) => void;
  fetch?: typeof fetch;
  sendBeacon?: (url: string) => boolean;
  now?: () => Date;
  random?: () => number;
}

export interface Tracker {
  /** Queue one event; returns its `eventId`, or null when nothing was recorded (no consent, no user). */
  track(action: string, details: Details): string | null;
  /** Send what is queued now (resolves when this attempt is answered). */
  flush(): Promise<void>;
  /** What the page-hide handler does: beacons (or keepalive requests) for what is not yet on its way. */
  flushOnHide(): void;
  /** The consent kill switch. */
  setConsent(granted: boolean): void;
  /** Events waiting to be sent, oldest first. */
  pending(): UserEvent[];
}

const BEACON_URL_MAX = 7600; // CloudFront neither serves nor logs a URL over 8,192 bytes
const KEEPALIVE_MAX = 60000; // browsers refuse keepalive bodies over 64 KiB in all
const STALE_MS = 30000; // another tab's queue untouched this long is adopted

interface Saved {
  t: number; // last write (ms); 0 once its page was hidden, so the next page adopts it at once
  q: UserEvent[];
}

const encoder = new TextEncoder();
const bytes = (text: string): number => encoder.encode(text).length;
const characters = (text: string): number => Array.from(text).length;

function uuid(random: () => number): string {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === "function") return c.randomUUID();
  const h = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
  h[12] = "4";
  h[16] = ((parseInt(h[16], 16) & 3) | 8).toString(16);
  const s = h.join("");
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

/** `2026-03-01T20:15:00.250+08:00`: local wall time with its offset, as the contract takes it. */
export function isoWithOffset(date: Date): string {
  const pad = (n: number, w = 2) => String(Math.abs(n)).padStart(w, "0");
  const offset = -date.getTimezoneOffset();
  const zone = `${offset < 0 ? "-" : "+"}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`;
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:` +
    `${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}${zone}`
  );
}

/** base64url (RFC 4648 section 5) of the text's UTF-8, without padding. */
export function base64url(text: string): string {
  let binary = "";
  encoder.encode(text).forEach((b) => (binary += String.fromCharCode(b)));
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The contract's refusals of an event, as the API words the field: [] when it is valid. */
export function problems(event: UserEvent): string[] {
  const found: string[] = [];
  const record = event as unknown as Record<string, unknown>;
  for (const name of REQUIRED) {
    const value = record[name];
    if (typeof value !== "string" || value === "") found.push(`${name}: required text`);
  }
  for (const [name, limit] of Object.entries(LIMITS)) {
    const value = record[name];
    if (typeof value === "string" && characters(value) > limit) found.push(`${name}: longer than ${limit} characters`);
  }
  return found;
}

export function createTracker(options: TrackerOptions): Tracker {
  const batchSize = Math.max(1, Math.min(options.batchSize ?? 100, MAX_EVENTS_PER_REQUEST));
  const interval = options.flushIntervalMs ?? 2000;
  const maxQueue = options.maxQueue ?? 1000;
  const baseMs = options.retryBaseMs ?? 500;
  const maxMs = options.retryMaxMs ?? 60000;
  const now = options.now ?? (() => new Date());
  const random = options.random ?? Math.random;
  const send = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const beacon =
    options.sendBeacon ??
    (typeof navigator !== "undefined" && navigator.sendBeacon ? (url: string) => navigator.sendBeacon(url) : null);
  const storage = options.storage === undefined ? (typeof localStorage !== "undefined" ? localStorage : null) : options.storage;
  const prefix = `${options.storageKey ?? "uba-events"}.`;
  const ownKey = prefix + uuid(random);

  let consent = options.consent ?? true;
  let queue: UserEvent[] = [];
  const inFlight = new Set<string>();
  let failures = 0;
  let notBefore = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;

  // Once the page is going away its queue stays released, even if an answer arrives after pagehide.
  let leaving = false;
  const save = (): void => {
    if (!storage) return;
    try {
      if (queue.length) storage.setItem(ownKey, JSON.stringify({ t: leaving ? 0 : Date.now(), q: queue } as Saved));
      else storage.removeItem(ownKey);
    } catch {
      // Storage full or blocked: the queue still lives in memory.
    }
  };

  const adopt = (): void => {
    if (!storage) return;
    const keys: string[] = [];
    for (let i = 0; i < storage.length; i++) {
      const key = storage.key(i);
      if (key && key.startsWith(prefix) && key !== ownKey) keys.push(key);
    }
    const known = new Set(queue.map((e) => e.eventId));
    for (const key of keys) {
      try {
        const saved = JSON.parse(storage.getItem(key) ?? "null") as Saved | null;
        if (saved && saved.t !== 0 && Date.now() - saved.t < STALE_MS) continue; // a live tab's own queue
        storage.removeItem(key);
        for (const event of saved?.q ?? []) if (!known.has(event.eventId)) queue.push(event), known.add(event.eventId);
      } catch {
        storage.removeItem(key);
      }
    }
    trim();
    save();
  };

  const trim = (): void => {
    if (queue.length > maxQueue) queue = queue.slice(queue.length - maxQueue);
  };

  const schedule = (delay = interval): void => {
    if (timer !== undefined || !consent || !queue.length) return;
    timer = setTimeout(() => {
      timer = undefined;
      void flush();
    }, Math.max(delay, notBefore - Date.now(), 0));
  };

  const remove = (ids: Set<string>): void => {
    queue = queue.filter((e) => !ids.has(e.eventId));
    save();
  };

  const backoff = (retryAfterSeconds: number): void => {
    failures += 1;
    const ceiling = Math.min(maxMs, baseMs * 2 ** (failures - 1));
    notBefore = Date.now() + Math.max(random() * ceiling, retryAfterSeconds * 1000);
  };

  const nextBatch = (): UserEvent[] => {
    const batch: UserEvent[] = [];
    let size = 20;
    for (const event of queue) {
      if (inFlight.has(event.eventId)) continue;
      const more = bytes(JSON.stringify(event)) + 1;
      if (batch.length === batchSize || size + more > MAX_BODY_BYTES) break;
      batch.push(event);
      size += more;
    }
    return batch;
  };

  async function flush(): Promise<void> {
    if (!consent || Date.now() < notBefore) return schedule();
    const batch = nextBatch();
    if (!batch.length) return;
    batch.forEach((e) => inFlight.add(e.eventId));
    const body = JSON.stringify({ events: batch });
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (options.apiKey) headers["x-api-key"] = options.apiKey;
    let retry = true;
    let retryAfter = 0;
    try {
      const response = await send(options.endpoint, {
        method: "POST",
        headers,
        body,
        keepalive: bytes(body) <= KEEPALIVE_MAX,
        credentials: "omit",
      });
      retryAfter = Number(response.headers.get("retry-after")) || 0;
      const answer = (await response.json().catch(() => ({}))) as {
        rejected?: { index: number; errors: string[] }[];
        failed?: { index: number }[];
        message?: string;
      };
      // Rejected events are never resent, whatever else the answer says (a 503 lists them too).
      const rejections: Rejection[] = (answer.rejected ?? []).map((r) => ({ event: batch[r.index], errors: r.errors }));
      const gone = new Set(rejections.map((r) => r.event?.eventId));
      retry = response.status === 429 || response.status >= 500;
      if (!retry) {
        const keep = new Set((answer.failed ?? []).map((f) => batch[f.index]?.eventId));
        for (const event of batch) {
          if (keep.has(event.eventId) || gone.has(event.eventId)) continue;
          gone.add(event.eventId);
          // A request refused whole (e.g. 403, 413) cannot succeed when resent unchanged.
          if (!response.ok && !answer.rejected) {
            rejections.push({ event, errors: [answer.message ?? `HTTP ${response.status}`] });
          }
        }
        if (keep.size) backoff(retryAfter);
        else failures = 0;
      }
      remove(gone);
      if (rejections.length && options.onRejected) options.onRejected(rejections);
    } catch {
      // Network error: everything is retried.
    } finally {
      batch.forEach((e) => inFlight.delete(e.eventId));
    }
    if (retry) backoff(retryAfter);
    schedule(queue.length - inFlight.size >= batchSize ? 0 : interval);
  }

  // `release`: the page is going away (pagehide), so the next page may adopt what is left at once; a tab
  // that is only hidden keeps its queue, since it may come back.
  const hide = (release: boolean): void => {
    leaving = leaving || release;
    if (!consent) return;
    const waiting = queue.filter((e) => !inFlight.has(e.eventId));
    const sent = new Set<string>();
    if (beacon && options.beaconUrl) {
      const join = options.beaconUrl.includes("?") ? "&" : "?";
      let group: UserEvent[] = [];
      const post = (events: UserEvent[]): boolean => {
        const url = `${options.beaconUrl}${join}e=${base64url(JSON.stringify({ events }))}`;
        if (!beacon(url)) return false;
        events.forEach((e) => sent.add(e.eventId));
        return true;
      };
      for (const event of waiting) {
        const candidate = [...group, event];
        const length = options.beaconUrl.length + 3 + Math.ceil((bytes(JSON.stringify({ events: candidate })) * 4) / 3);
        if (length > BEACON_URL_MAX && group.length) {
          if (!post(group)) break;
          group = [event];
        } else {
          group = candidate;
        }
      }
      if (group.length) post(group);
    } else if (waiting.length) {
      void flush();
    }
    remove(sent);
  };
  const flushOnHide = (): void => hide(true);

  const track = (action: string, details: Details): string | null => {
    const userId = consent ? options.userId() : null;
    if (!userId) return null;
    const event: UserEvent = {
      eventId: uuid(random),
      action,
      userId,
      objectId: details.objectId,
      bizId: details.bizId,
      createdAt: isoWithOffset(now()),
      ...(details.errorMsg ? { errorMsg: details.errorMsg } : {}),
    };
    const found = problems(event);
    if (found.length) throw new TypeError(`uba tracker: ${found.join("; ")}`);
    queue.push(event);
    trim();
    save();
    if (queue.length - inFlight.size >= batchSize) void flush();
    else schedule();
    return event.eventId;
  };

  const setConsent = (granted: boolean): void => {
    consent = granted;
    if (granted) return schedule();
    clearTimeout(timer);
    timer = undefined;
    queue = [];
    save();
  };

  if (typeof addEventListener === "function") {
    addEventListener("pagehide", flushOnHide);
    // Back from the back/forward cache: the page lives again and owns its queue.
    addEventListener("pageshow", () => {
      leaving = false;
      save();
    });
    addEventListener("visibilitychange", () => {
      if (typeof document !== "undefined" && document.visibilityState === "hidden") hide(false);
    });
  }
  if (consent) {
    adopt();
    schedule(0);
  }

  return { track, flush, flushOnHide, setConsent, pending: () => queue.slice() };
}
