// The voice button: microphone → /v1/voice WebSocket → reply audio, plus the lists
// that change as you talk. While the page is open its socket stays connected, so a
// reminder that comes due is shown, spoken and raised as a browser notification. Add ?raw=1 to turn off the browser's echo cancellation,
// noise suppression and gain (tests play a file as the microphone).
const $ = (id) => document.getElementById(id);
const raw = new URLSearchParams(location.search).has("raw");
let socket = null, context = null, microphone = null, sending = false, playAt = 0, outRate = 16000;
// One conversation for the socket and the typed box: "done" after a reminder applies to it.
const session = `web-${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
const RECONNECT = new Set([1001, 1006, 4001]);  // server restart, network loss, idle: reopen
window.lifeos = { events: [], audioSamples: 0, level: 0, live: false, changes: 0 };  // what a test can inspect
let changes = null, redraw = null;
let live = false, refusedBefore = false;  // signed in: the panels follow changes, and reconnect after a drop

async function api(path) {
  const response = await call(path);
  if (!response.ok) throw new Error((await response.json()).detail || response.statusText);
  return response.json();
}

// --- Signing in -------------------------------------------------------------------
// The session lives in HttpOnly cookies the script cannot read; the page keeps only
// the CSRF token, in memory, and sends it with every request that changes something.
let csrf = "";
let resetting = false;  // the code field holds a code to set a new password with

async function call(path, options = {}) {
  const send = () => {
    const unsafe = (options.method || "GET") !== "GET";
    const headers = { ...(options.headers || {}), ...(unsafe && csrf ? { "X-CSRF-Token": csrf } : {}) };
    return fetch(path, { ...options, headers, credentials: "same-origin" });
  };
  const response = await send();
  // An expired access cookie: spend the refresh cookie once and try again.
  if (response.status === 401 && !path.startsWith("/v1/auth/") && (await refreshSession())) return send();
  return response;
}

async function refreshSession() {
  const response = await fetch("/v1/auth/refresh", { method: "POST", credentials: "same-origin" });
  if (!response.ok) return false;
  csrf = (await response.json()).csrf;
  return true;
}

async function post(path, body) {
  const response = await call(path, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = Array.isArray(answer.detail) ? answer.detail.map((d) => d.msg).join("; ") : answer.detail;
    throw new Error(detail || response.statusText);
  }
  return answer;
}

function signedIn(session) {
  csrf = session.csrf || "";
  $("who").textContent = session.email;
  $("signin").hidden = true;
  $("setpassword").hidden = true;
  $("people").hidden = false;
  for (const id of ["voice", "handsfree", "text"]) $(id).disabled = false;
  $("typed").querySelector("button").disabled = false;
  $("status").textContent = "Hold the button and speak.";
  $("notify").hidden = !("Notification" in window) || Notification.permission !== "default";
  $("signout").hidden = false;
  history.replaceState(null, "", location.pathname + location.search);  // the link is spent
  live = true;
  refresh();
  watchChanges();
  openSocket();
}

async function signIn(event) {
  event?.preventDefault();
  const login = $("login").value.trim();
  try {
    if (resetting) return askNewPassword("Choose a new password.");
    const code = $("code").value.trim();
    signedIn(await post("/v1/auth/signin", code ? { login, code } : { login, password: $("password").value }));
  } catch (error) {
    $("who").textContent = `Sign-in failed: ${error.message}`;
  }
}

async function sendCode(purpose) {
  try {
    const sent = await post("/v1/auth/code", { login: $("login").value.trim(), purpose });
    resetting = purpose === "reset";
    $("code").hidden = false;
    $("password").hidden = true;  // the code stands in for it (or leads to a new one)
    $("who").textContent = `${sent.detail}. Type it in the Code box.`;
  } catch (error) {
    $("who").textContent = `No code sent: ${error.message}`;
  }
}

function askNewPassword(why, needsEmail = false) {
  $("setpassword").hidden = false;
  $("setpassword-why").textContent = why;
  $("newemail").hidden = !needsEmail;
}

// What the set-password form does: from a link (#setup=…, #invite=…) or after a reset code.
async function setPassword(event) {
  event.preventDefault();
  const link = new URLSearchParams(location.hash.slice(1));
  const password = $("newpassword").value;
  try {
    if (link.has("setup")) signedIn(await post("/v1/auth/password/setup", { token: link.get("setup"), password }));
    else if (link.has("invite")) {
      const body = { code: link.get("invite"), password, ...($("newemail").value ? { email: $("newemail").value } : {}) };
      signedIn(await post("/v1/auth/invitations/accept", body));
    } else {
      const body = { login: $("login").value.trim(), code: $("code").value.trim(), password };
      signedIn(await post("/v1/auth/password/reset", body));
    }
  } catch (error) {
    $("who").textContent = error.message;
  }
}

async function invite(event) {
  event.preventDefault();
  const to = $("invitee").value.trim();
  try {
    const [household] = await api("/v1/households");
    const made = await post(`/v1/households/${household.id}/invitations`, to.startsWith("+") ? { phone: to } : { email: to });
    $("invited").textContent = `Invitation sent by ${made.sent_by} to ${to}.`;
    $("invitee").value = "";
  } catch (error) {
    $("invited").textContent = `Not sent: ${error.message}`;
  }
}

async function signOut() {
  await call("/v1/auth/signout", { method: "POST" }).catch(() => {});
  csrf = "";
  $("password").value = "";
  $("handsfree").checked = false;
  live = false;
  socket?.close(1000, "signed out");
  changes?.close(1000, "signed out");
  for (const id of ["voice", "handsfree", "text"]) $(id).disabled = true;
  $("typed").querySelector("button").disabled = true;
  $("signout").hidden = true;
  $("people").hidden = true;
  $("signin").hidden = false;
  $("who").textContent = "Signed out.";
  $("status").textContent = "Sign in to start.";
}

// On load: a link to follow, or a session the cookies still hold.
async function resume() {
  const link = new URLSearchParams(location.hash.slice(1));
  if (link.has("setup")) return askNewPassword("Welcome: set your password.");
  if (link.has("invite")) return askNewPassword("You are invited: choose a password to join.", true);
  const response = await call("/v1/auth/session");
  if (response.status === 401 && (await refreshSession())) return resume();
  if (response.ok) signedIn(await response.json());
}
// --- end of signing in ----------------------------------------------------------

function list(id, items) {
  $(id).replaceChildren(...items.map((text) => Object.assign(document.createElement("li"), { textContent: text })));
}

async function gql(query, variables = {}) {
  const response = await call("/graphql", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  const answer = await response.json();
  if (!response.ok || answer.errors) throw new Error(answer.detail || answer.errors[0].message);
  return answer.data;
}

const PANELS = `query Panels($start: DateTime!, $end: DateTime!, $from: Date!, $to: Date!) {
  tasks(filter: {status: OPEN}) { title list }
  events(start: $start, end: $end) { title startAt }
  summary(start: $from, end: $to) { currency rows { key total } }
}`;

async function refresh() {
  const now = new Date(), week = new Date(Date.now() + 7 * 864e5);
  const monthStart = new Date(now.getFullYear(), now.getMonth(), 1).toISOString().slice(0, 10);
  const tomorrow = new Date(Date.now() + 864e5).toISOString().slice(0, 10);
  const { tasks, events, summary } = await gql(PANELS, {
    start: now.toISOString(), end: week.toISOString(), from: monthStart, to: tomorrow,
  });
  list("tasks", tasks.map((t) => (t.list ? `${t.title} (${t.list})` : t.title)));
  list("events", events.map((e) => `${new Date(e.startAt).toLocaleString()} — ${e.title}`));
  list("spending", summary.rows.map((r) => `${r.key}: ${r.total} ${summary.currency}`));
}

// The panels follow every change as it is saved, by whatever channel (this page, a
// phone call, an SMS, another household member): a GraphQL subscription over
// graphql-transport-ws. A burst of changes redraws once; after a drop the page
// reconnects and redraws, since what changed meanwhile was not heard.
function watchChanges() {
  if (changes && changes.readyState <= 1) return;
  changes = new WebSocket(`${location.origin.replace("http", "ws")}/graphql`, "graphql-transport-ws");
  const send = (message) => changes.send(JSON.stringify(message));
  // Signed in by the session cookie the socket's upgrade carries (from our own Origin).
  changes.onopen = () => send({ type: "connection_init", payload: {} });
  changes.onmessage = (message) => {
    const data = JSON.parse(message.data);
    if (data.type === "connection_ack") {
      refusedBefore = false;
      send({ id: "changes", type: "subscribe", payload: { query: "subscription { changes { kind action } }" } });
      window.lifeos.live = true;
    }
    if (data.type === "ping") send({ type: "pong" });
    if (data.type === "next") {
      window.lifeos.changes += 1;
      clearTimeout(redraw);
      redraw = setTimeout(refresh, 100);
    }
  };
  changes.onclose = (close) => {
    window.lifeos.live = false;
    if (!live || close.code === 1000) return;  // signed out: nothing to reconnect as
    // Refused (4403): the access cookie ran out; spend the refresh cookie once, then
    // reopen. Any other drop: reopen a little later.
    const again = () => { watchChanges(); refresh(); };
    if (close.code !== 4403) setTimeout(again, 2000);
    else if (!refusedBefore) { refusedBefore = true; refreshSession().then((ok) => ok && again()); }
  };
}

async function openSocket() {
  if (socket && socket.readyState <= 1) return;
  context ??= new AudioContext({ sampleRate: 16000 });
  const query = `session=${session}`;  // signed in by the session cookie
  socket = new WebSocket(`${location.origin.replace("http", "ws")}/v1/voice?${query}`);
  socket.binaryType = "arraybuffer";
  socket.onmessage = (message) => (typeof message.data === "string" ? onEvent(JSON.parse(message.data)) : play(message.data));
  socket.onclose = (close) => {
    $("status").textContent = close.reason ? `Disconnected: ${close.reason}` : "Disconnected.";
    if (RECONNECT.has(close.code)) setTimeout(openSocket, 2000);  // stay reachable for reminders
    // Refused because the access cookie expired: refresh it and reopen.
    if (close.code === 1008 && /expired/.test(close.reason) && csrf) refreshSession().then((ok) => ok && openSocket());
  };
  await new Promise((resolve) => socket.addEventListener("open", resolve, { once: true }));
}

async function connect() {
  await openSocket();
  if (microphone) return;
  await context.resume();
  await context.audioWorklet.addModule("/web/capture-worklet.js");
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: { echoCancellation: !raw, noiseSuppression: !raw, autoGainControl: !raw, channelCount: 1 },
  });
  microphone = context.createMediaStreamSource(stream);
  const capture = new AudioWorkletNode(context, "capture");
  capture.port.onmessage = (message) => { if (sending && socket?.readyState === 1) socket.send(message.data); };
  microphone.connect(capture);
}

function remind(event) {
  $("reminder").textContent = event.text;
  $("reminder").hidden = false;
  if ("Notification" in window && Notification.permission === "granted") {
    new Notification("Life OS reminder", { body: event.text, tag: event.id });
  }
}

function onEvent(event) {
  window.lifeos.events.push(event);
  if (event.type === "speech_started") $("status").textContent = "Listening…";
  if (event.type === "partial") $("heard").textContent = event.text + "…";
  if (event.type === "transcript") $("heard").textContent = event.text || "(nothing)";
  if (event.type === "audio_start") { outRate = event.rate; $("status").textContent = "Answering…"; }
  if (event.type === "reply") $("said").textContent = event.text;
  if (event.type === "audio_end") $("status").textContent = "Hold the button and speak.";
  if (event.type === "interrupted") stopPlayback();
  if (event.type === "error") $("status").textContent = event.message;
  if (event.type === "reminder") remind(event);
}

let sources = [];
function play(buffer) {
  const samples = new Int16Array(buffer);
  const audio = context.createBuffer(1, samples.length, outRate);
  const channel = audio.getChannelData(0);
  for (let i = 0; i < samples.length; i++) channel[i] = samples[i] / 32768;
  const source = context.createBufferSource();
  const analyser = context.createAnalyser();
  source.buffer = audio;
  source.connect(analyser).connect(context.destination);
  // The server sends audio at playback speed; starting 40 ms behind keeps a late
  // chunk from leaving a gap (a click) in the middle of a word.
  if (playAt < context.currentTime) playAt = context.currentTime + 0.04;
  source.start(playAt);
  playAt += audio.duration;
  sources.push(source);
  source.onended = () => { sources = sources.filter((s) => s !== source); };
  window.lifeos.audioSamples += samples.length;
  const level = new Float32Array(analyser.fftSize);
  setTimeout(() => { analyser.getFloatTimeDomainData(level); window.lifeos.level = Math.max(window.lifeos.level, ...level.map(Math.abs)); }, 50);
}

function stopPlayback() {
  for (const source of sources) source.stop();
  sources = [];
  playAt = 0;
}

async function talk(on) {
  await connect();
  if (on) stopPlayback();
  sending = on || $("handsfree").checked;
  $("voice").setAttribute("aria-pressed", String(sending));
  if (!on && !$("handsfree").checked && socket.readyState === 1) {
    socket.send(new Int16Array(16000 * 0.7).buffer);  // release = silence: the turn ends now
  }
}

$("signin").addEventListener("submit", signIn);
$("voice").addEventListener("pointerdown", () => talk(true));
$("voice").addEventListener("pointerup", () => talk(false));
$("handsfree").addEventListener("change", () => talk($("handsfree").checked));
$("notify").addEventListener("click", async () => {
  await Notification.requestPermission();  // asked on a click: browsers refuse it otherwise
  $("notify").hidden = Notification.permission !== "default";
});
$("typed").addEventListener("submit", async (event) => {
  event.preventDefault();
  const response = await call("/v1/converse", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ text: $("text").value, session_id: session }),
  });
  const reply = await response.json();
  $("heard").textContent = $("text").value;
  $("said").textContent = reply.reply || reply.detail;
  $("text").value = "";
});
// Signing out ends the session on the server (its cookies stop working wherever they
// were copied to) and closes the socket.
$("signout").addEventListener("click", signOut);
$("sendcode").addEventListener("click", () => sendCode("sign_in"));
$("forgot").addEventListener("click", () => sendCode("reset"));
$("setpassword").addEventListener("submit", setPassword);
$("invite").addEventListener("submit", invite);
resume();
