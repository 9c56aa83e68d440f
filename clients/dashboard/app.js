// The live dashboard: signs in, loads the latest results from the realtime API, then follows the
// WebSocket push. No dependencies, no inline code (the page's Content-Security-Policy allows
// only its own files and the stack's own API, push and sign-in origins). `config.json` is
// written by the program (or by `python -m tools.live` locally), never by hand.

const WINDOWS_SHOWN = 15;
const ACTIONS_SHOWN = 12;
const FEED_SHOWN = 200;
const PING_MS = 4 * 60 * 1000; // API Gateway closes a WebSocket after 10 idle minutes
const TOKENS = "uba.live.tokens";
const PKCE = "uba.live.pkce";

const $ = (id) => document.getElementById(id);
const state = {
  config: null,
  alerts: new Map(), // key -> view (errors and warning bursts)
  counts: new Map(), // action|windowStart -> view
  bursts: new Set(), // action|windowStart of every warning burst
  arrivals: new Map(), // alert key -> when this page received it by push (ms since the epoch)
  socket: null,
  retryMs: 1000,
};
// What a test or a benchmark reads: when each alert reached the page.
window.uba = { arrivals: state.arrivals, alerts: state.alerts };

// ------------------------------------------------------------------ sign-in

function base64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomText(bytes = 32) {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

function storedTokens() {
  try {
    return JSON.parse(sessionStorage.getItem(TOKENS)) || null;
  } catch {
    return null;
  }
}

function keepTokens(answer, previous = {}) {
  const tokens = {
    access: answer.access_token,
    refresh: answer.refresh_token || previous.refresh || null,
    expiresAt: Date.now() + (Number(answer.expires_in) || 3600) * 1000,
  };
  sessionStorage.setItem(TOKENS, JSON.stringify(tokens));
  return tokens;
}

async function startSignIn() {
  const cfg = state.config;
  const verifier = randomText(48);
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const stateValue = randomText(16);
  sessionStorage.setItem(PKCE, JSON.stringify({ verifier, state: stateValue }));
  const query = new URLSearchParams({
    response_type: "code",
    client_id: cfg.clientId,
    redirect_uri: cfg.redirectUri,
    scope: cfg.scopes.join(" "),
    state: stateValue,
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  location.assign(`${cfg.authUrl}/oauth2/authorize?${query}`);
}

async function tokenRequest(form) {
  const answer = await fetch(`${state.config.authUrl}/oauth2/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form),
  });
  if (!answer.ok) throw new Error(`sign-in failed (${answer.status})`);
  return answer.json();
}

async function finishSignIn(params) {
  const saved = JSON.parse(sessionStorage.getItem(PKCE) || "{}");
  sessionStorage.removeItem(PKCE);
  history.replaceState(null, "", location.pathname);
  if (!saved.state || params.get("state") !== saved.state) throw new Error("sign-in answer does not match this page");
  const answer = await tokenRequest({
    grant_type: "authorization_code",
    client_id: state.config.clientId,
    code: params.get("code"),
    redirect_uri: state.config.redirectUri,
    code_verifier: saved.verifier,
  });
  return keepTokens(answer);
}

async function accessToken() {
  const cfg = state.config;
  if (cfg.mode === "local") {
    const fragment = new URLSearchParams(location.hash.slice(1));
    if (fragment.get("token")) {
      sessionStorage.setItem(TOKENS, JSON.stringify({ access: fragment.get("token"), expiresAt: Infinity }));
      history.replaceState(null, "", location.pathname + location.search);
    }
    return storedTokens()?.access || null;
  }
  const params = new URLSearchParams(location.search);
  if (params.get("code")) return (await finishSignIn(params)).access;
  const tokens = storedTokens();
  if (!tokens) return null;
  if (tokens.expiresAt - 60_000 > Date.now()) return tokens.access;
  if (!tokens.refresh) return null;
  try {
    const answer = await tokenRequest({ grant_type: "refresh_token", client_id: cfg.clientId, refresh_token: tokens.refresh });
    return keepTokens(answer, tokens).access;
  } catch {
    sessionStorage.removeItem(TOKENS);
    return null;
  }
}

function signOut() {
  sessionStorage.removeItem(TOKENS);
  const cfg = state.config;
  if (cfg.mode === "local") {
    location.reload();
    return;
  }
  const query = new URLSearchParams({ client_id: cfg.clientId, logout_uri: cfg.redirectUri });
  location.assign(`${cfg.authUrl}/logout?${query}`);
}

function askToSignIn(message) {
  $("sign-in").hidden = false;
  $("counts").hidden = true;
  $("alerts").hidden = true;
  $("sign-out").hidden = true;
  if (state.config.mode === "local") {
    $("sign-in-message").textContent =
      message || "Local mode: open the address `python -m tools.live` printed (it carries the local token).";
    $("sign-in-button").hidden = true;
  } else if (message) {
    $("sign-in-message").textContent = message;
  }
  setStatus("offline", "Signed out");
}

// ------------------------------------------------------------------ data

function keyOf(view) {
  if (view.alertType === "error") return `error|${view.action}|${view.createdAt}|${view.eventId}`;
  return `${view.alertType}|${view.action}|${view.windowStart}`;
}

function timeOf(view) {
  return view.alertType === "error" ? view.createdAt : view.windowEnd;
}

function take(views, pushed) {
  const now = Date.now();
  for (const view of views) {
    if (view.alertType === "counts") {
      state.counts.set(`${view.action}|${view.windowStart}`, view);
      continue;
    }
    const key = keyOf(view);
    if (pushed && !state.arrivals.has(key)) state.arrivals.set(key, now);
    state.alerts.set(key, view);
    if (view.alertType === "warn_burst") state.bursts.add(`${view.action}|${view.windowStart}`);
  }
}

class SignedOut extends Error {}

async function api(path) {
  const token = await accessToken();
  if (!token) throw new SignedOut();
  const answer = await fetch(`${state.config.apiUrl}${path}`, { headers: { Authorization: `Bearer ${token}` } });
  if (answer.status === 401) {
    sessionStorage.removeItem(TOKENS);
    throw new SignedOut("Your session ended; sign in again.");
  }
  if (!answer.ok) throw new Error(`the realtime API answered ${answer.status} for ${path}`);
  return answer.json();
}

async function load() {
  const [errors, bursts, counts] = await Promise.all([
    api("/alerts?type=error&limit=100"),
    api("/alerts?type=warn_burst&limit=100"),
    api(`/counts?minutes=60&limit=500`),
  ]);
  take([...errors.items, ...bursts.items, ...counts.items], false);
  render();
}

// ------------------------------------------------------------------ push

function setStatus(name, text) {
  const status = $("status");
  status.dataset.state = name;
  status.textContent = text;
}

async function connect() {
  const token = await accessToken();
  if (!token) return askToSignIn();
  setStatus("connecting", "Connecting…");
  const socket = new WebSocket(`${state.config.pushUrl}?token=${encodeURIComponent(token)}`);
  state.socket = socket;
  let ping = null;
  socket.addEventListener("open", () => {
    state.retryMs = 1000;
    setStatus("live", "Live");
    ping = setInterval(() => socket.send(JSON.stringify({ action: "ping" })), PING_MS);
    load().catch(showProblem); // fill whatever happened while the page was not connected
  });
  socket.addEventListener("message", (message) => {
    let data;
    try {
      data = JSON.parse(message.data);
    } catch {
      return;
    }
    if (data.type === "alerts" && Array.isArray(data.items)) {
      take(data.items, true);
      render();
    }
  });
  socket.addEventListener("close", () => {
    clearInterval(ping);
    if (state.socket !== socket) return;
    setStatus("offline", "Offline, reconnecting…");
    setTimeout(connect, state.retryMs);
    state.retryMs = Math.min(state.retryMs * 2, 30_000);
  });
}

// ------------------------------------------------------------------ drawing

const SVG = "http://www.w3.org/2000/svg";

function element(name, attributes = {}, text = null, namespace = null) {
  const node = namespace ? document.createElementNS(namespace, name) : document.createElement(name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== null) node.textContent = text;
  return node;
}

function renderChart() {
  const windows = [...new Set([...state.counts.values()].map((view) => view.windowStart))].sort().slice(-WINDOWS_SHOWN);
  const shown = new Set(windows);
  const totals = new Map();
  let highest = 1;
  for (const view of state.counts.values()) {
    if (!shown.has(view.windowStart)) continue;
    totals.set(view.action, (totals.get(view.action) || 0) + view.events);
    highest = Math.max(highest, view.events);
  }
  const actions = [...totals.keys()].sort((a, b) => totals.get(b) - totals.get(a) || a.localeCompare(b));
  const chart = $("chart");
  chart.replaceChildren();
  for (const action of actions.slice(0, ACTIONS_SHOWN)) {
    const row = element("div", { class: "row", "data-action": action });
    const svg = element("svg", { viewBox: `0 0 ${WINDOWS_SHOWN * 10} 40`, preserveAspectRatio: "none" }, null, SVG);
    let burstSeen = false;
    windows.forEach((windowStart, index) => {
      const view = state.counts.get(`${action}|${windowStart}`);
      const burst = state.bursts.has(`${action}|${windowStart}`);
      burstSeen ||= burst;
      const events = view ? view.events : 0;
      const height = Math.max(events ? 2 : 0, (events / highest) * 40);
      const offset = WINDOWS_SHOWN - windows.length;
      const bar = element("rect", {
        x: (offset + index) * 10 + 1, y: 40 - height, width: 8, height,
        class: burst ? "burst" : "", "data-window": windowStart, "data-events": events,
      }, null, SVG);
      bar.appendChild(element("title", {}, `${action} at ${windowStart}: ${events} events${burst ? ", warning burst" : ""}`, SVG));
      svg.appendChild(bar);
    });
    if (burstSeen) row.classList.add("burst");
    row.append(element("span", { class: "name", title: action }, action), svg, element("span", { class: "total" }, String(totals.get(action))));
    chart.appendChild(row);
  }
  if (!actions.length) chart.appendChild(element("p", { class: "hint" }, "No counts in the latest windows yet."));
  const first = windows[0];
  $("counts-window").textContent = first ? `since ${new Date(first).toLocaleTimeString()}` : "";
}

function describe(view) {
  if (view.alertType === "error") return [`Error on ${view.action}`, view.errorMsg, `${view.userId} · ${view.eventId}`];
  return [`${view.warnCount} warnings on ${view.action}`, `window ${new Date(view.windowStart).toLocaleTimeString()}–${new Date(view.windowEnd).toLocaleTimeString()}`, ""];
}

function renderFeed() {
  const type = $("filter-type").value;
  const action = $("filter-action").value.trim().toLowerCase();
  const views = [...state.alerts.entries()]
    .filter(([, view]) => (type === "all" || view.alertType === type) && (!action || view.action.toLowerCase().includes(action)))
    .sort(([, a], [, b]) => timeOf(b).localeCompare(timeOf(a)))
    .slice(0, FEED_SHOWN);
  const feed = $("feed");
  feed.replaceChildren(...views.map(([key, view]) => {
    const [what, detail, who] = describe(view);
    const arrived = state.arrivals.get(key);
    const item = element("li", { class: view.alertType, "data-type": view.alertType, "data-action": view.action });
    if (view.eventId) item.dataset.eventId = view.eventId;
    if (arrived) {
      item.dataset.receivedAt = String(arrived);
      if (Date.now() - arrived < 2000) item.classList.add("fresh");
    }
    item.append(
      element("div", { class: "what" }, what),
      element("div", { class: "detail" }, detail),
      element("div", { class: "when" }, `${new Date(timeOf(view)).toLocaleString()}${who ? ` · ${who}` : ""}`),
    );
    return item;
  }));
  $("feed-empty").hidden = views.length > 0;
}

function render() {
  renderChart();
  renderFeed();
}

function showProblem(error) {
  if (error instanceof SignedOut) return askToSignIn(error.message || undefined);
  $("problem").hidden = false;
  $("problem").textContent = String(error.message || error);
}

// ------------------------------------------------------------------ start

async function start() {
  const answer = await fetch("config.json", { cache: "no-store" });
  if (!answer.ok) throw new Error(`config.json could not be loaded (${answer.status})`);
  state.config = await answer.json();
  $("sign-in-button").addEventListener("click", () => startSignIn().catch(showProblem));
  $("sign-out").addEventListener("click", signOut);
  $("filters").addEventListener("input", renderFeed);
  $("filters").addEventListener("submit", (event) => event.preventDefault());
  if (!(await accessToken())) return askToSignIn();
  $("sign-in").hidden = true;
  $("counts").hidden = false;
  $("alerts").hidden = false;
  $("sign-out").hidden = false;
  await load();
  await connect();
}

start().catch(showProblem);
