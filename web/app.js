// dailynet page: the newest notes, older ones on request, new ones live over server-sent
// events (EventSource resumes with Last-Event-ID), a compose box whose notes are kept in
// localStorage until the server stores them (retried with their Idempotency-Key, also after a
// reload), a search box and a day filter (the /notes and /events query parameters).
// A hidden tab closes its /events stream and resumes when shown again: browsers give a
// server 6 HTTP/1.1 connections in all, so six open tabs would leave a seventh (and its
// POSTs) waiting forever. A note refused while another is being typed stays in the pending
// list, marked refused, until it is taken back to be edited or discarded.
// Note text is only ever set with textContent: it is shown as text, never as markup.
"use strict";

const PAGE = 200;                      // notes per load
const PENDING_KEY = "dailynet.pending";
const $ = (id) => document.getElementById(id);
const list = $("notes"), statusLine = $("status"), result = $("result");

let shown = new Map();      // seq -> <li>
let newest = 0;             // highest seq shown
let oldest = 0;             // lowest seq shown (the "older" cursor)
let resume = 0;             // highest seq known (the store's at load, or received): /events
                            // starts after max(newest, resume)
let loaded = 0;             // the generation whose load() succeeded (0: none yet)
let events = null, reconnectTimer = 0, generation = 0;

// ---- filters ------------------------------------------------------------------------------

function filterParams() {
  const p = new URLSearchParams();
  const match = $("match").value;
  if (match.trim()) p.set("match", match);
  const day = $("day").value;  // YYYY-MM-DD, local
  if (day) {
    const [y, m, d] = day.split("-").map(Number);
    p.set("since", new Date(y, m - 1, d).toISOString());
    p.set("until", new Date(y, m - 1, d + 1).toISOString());
  }
  return p;
}

// ---- rendering ----------------------------------------------------------------------------

const pad = (n) => String(n).padStart(2, "0");
function localTime(iso) {
  const t = new Date(iso);
  if (isNaN(t)) return iso;
  return `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())} ` +
         `${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}`;
}

function noteItem(n) {
  const li = document.createElement("li");
  li.id = "n" + n.seq;
  li.dataset.seq = n.seq;
  const meta = document.createElement("div");
  meta.className = "meta";
  const time = document.createElement("time");
  time.dateTime = n.time;
  time.textContent = localTime(n.time);
  const seq = document.createElement("span");
  seq.className = "seq";
  seq.textContent = "#" + n.seq;
  const from = document.createElement("span");
  from.className = "from";
  from.textContent = n.from;
  meta.append(time, seq, from);
  const text = document.createElement("p");
  text.className = "text";
  text.dir = "auto";  // a Hebrew or Arabic note reads right to left, its punctuation in place
  text.textContent = n.text;
  li.append(meta, text);
  return li;
}

function atBottom() {
  const el = document.scrollingElement;
  return el.scrollHeight - el.scrollTop - el.clientHeight < 40;
}
function toBottom() {
  const el = document.scrollingElement;
  el.scrollTop = el.scrollHeight;
}

// Adds notes (any order) once each, keeping the list in seq order.
function addNotes(notes, live) {
  const follow = atBottom();
  for (const n of notes) {
    if (shown.has(n.seq)) continue;
    const li = noteItem(n);
    if (live) li.classList.add("new");
    let before = null;  // first shown note with a higher seq (usually none: append)
    if (newest > n.seq) {
      for (const el of list.children) if (Number(el.dataset.seq) > n.seq) { before = el; break; }
    }
    list.insertBefore(li, before);
    shown.set(n.seq, li);
    newest = Math.max(newest, n.seq);
    oldest = oldest ? Math.min(oldest, n.seq) : n.seq;
  }
  $("empty").hidden = shown.size > 0;
  if (live && follow) toBottom();
}

// ---- reading: /notes (ndjson) and /events (SSE) -----------------------------------------

async function fetchNotes(params) {
  const r = await fetch("/notes?" + params.toString(), { cache: "no-store" });
  const body = await r.text();
  if (!r.ok) throw new Error(errorText(body, r.status));
  return body.split("\n").filter((l) => l).map((l) => JSON.parse(l));
}

function errorText(body, status) {
  try { return JSON.parse(body).error || "HTTP " + status; } catch { return "HTTP " + status; }
}

async function load() {
  const mine = ++generation;
  closeEvents();
  // The notes on screen stay until the new ones are in (no blank list while a search is
  // typed on a slow network, nor while the server is down).
  setStatus("loading notes…");
  const p = filterParams();
  p.set("last", PAGE);
  try {
    // With a filter the newest shown note may be far behind the store's (a past day, a rare
    // word): the live stream starts after the store's newest instead of replaying the rest.
    let top = [];
    if (p.has("match") || p.has("since")) top = await fetchNotes(new URLSearchParams({ last: 1 }));
    const notes = await fetchNotes(p);
    if (mine !== generation) return;
    shown = new Map();
    newest = oldest = 0;
    list.replaceChildren();
    resume = top.length ? top[0].seq : 0;
    addNotes(notes, false);
    $("older").hidden = notes.length < PAGE;
    toBottom();
    loaded = mine;
    goLive(mine);
  } catch (e) {
    if (mine !== generation) return;
    // The server may be restarting: try again (a refusal such as a bad query is shown).
    setStatus("could not load notes: " + e.message + " — retrying");
    reconnectTimer = setTimeout(() => { if (mine === generation) load(); }, 2000);
  }
}

async function loadOlder() {
  if (!oldest) return;
  const p = filterParams();
  p.set("last", PAGE);
  p.set("before", oldest);
  const el = document.scrollingElement, keep = el.scrollHeight - el.scrollTop;
  try {
    const notes = await fetchNotes(p);
    addNotes(notes, false);
    el.scrollTop = el.scrollHeight - keep;  // stay on the note that was at the top
    if (notes.length < PAGE) $("older").hidden = true;
    if (events) setStatus("live — " + shown.size + " notes shown");
  } catch (e) {
    setStatus("could not load older notes: " + e.message);
  }
}

function setStatus(text) { statusLine.textContent = text; }

function closeEvents() {
  if (events) events.close();
  events = null;
  clearTimeout(reconnectTimer);
}

// Live notes are put on screen in batches: one layout per 50 ms, not one per note (a burst of
// 3,000 notes from `dailynet send` froze the page for half a minute).
let arrived = [], flushTimer = 0;  // [generation, note] received, not yet shown
function flushArrived() {
  flushTimer = 0;
  const batch = arrived.filter(([g]) => g === generation).map(([, n]) => n);
  arrived = [];
  if (!batch.length) return;
  addNotes(batch, true);
  setStatus("live — " + shown.size + " notes shown");
}

// Opens the live stream unless the tab is hidden (see the top of the file).
function goLive(mine) {
  if (document.hidden) { setStatus("paused while the tab is hidden"); return; }
  connectEvents(mine);
}

function connectEvents(mine) {
  closeEvents();  // never two streams (a reconnect timer may still be pending)
  const p = filterParams();
  const until = p.get("until");
  p.delete("since");  // the stream resumes by seq; the day filter is applied here
  p.delete("until");
  p.set("since", Math.max(newest, resume));
  const since = filterParams().get("since");
  events = new EventSource("/events?" + p.toString());
  events.onopen = () => setStatus("live — " + shown.size + " notes shown");
  events.onmessage = (e) => {
    const n = JSON.parse(e.data);
    resume = Math.max(resume, n.seq);
    if (since && (n.time < since || n.time >= until)) return;
    arrived.push([mine, n]);
    if (!flushTimer) flushTimer = setTimeout(flushArrived, 50);
  };
  events.onerror = () => {
    setStatus("connection lost — reconnecting…");
    // EventSource retries by itself (with Last-Event-ID) unless it gave up for good.
    if (events && events.readyState === EventSource.CLOSED && mine === generation) {
      closeEvents();
      reconnectTimer = setTimeout(() => goLive(mine), 2000);
    }
  };
}

// ---- writing: POST /notes with an Idempotency-Key, kept until stored ----------------------

function loadPending() {
  try { return JSON.parse(localStorage.getItem(PENDING_KEY)) || []; } catch { return []; }
}
function savePending(list) {
  try { localStorage.setItem(PENDING_KEY, JSON.stringify(list)); } catch { /* private mode */ }
}
function button(label, onclick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.addEventListener("click", onclick);
  return b;
}
// Pending notes; a refused one (p.refused: the reason) with Edit (back into the box, when it
// is empty) and Discard.
function renderPending() {
  $("pending").replaceChildren(...loadPending().map((p) => {
    const li = document.createElement("li");
    const text = document.createElement("span");
    text.className = "text";
    text.dir = "auto";
    text.textContent = p.text;
    li.append(text);
    if (p.refused) {
      li.className = "refused";
      li.title = "not stored: " + p.refused;
      li.append(button("Edit", () => {
        const box = $("text");
        if (box.value) { showResult("send or clear the note being written first", false); return; }
        box.value = p.text;
        dropPending(p.key);
        box.focus();
      }), button("Discard", () => dropPending(p.key)));
    }
    return li;
  }));
}
function newKey() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}
function dropPending(key) {
  savePending(loadPending().filter((p) => p.key !== key));
  renderPending();
}

function showResult(text, good) {
  result.textContent = text;
  result.className = good ? "good" : "bad";
}

const retrying = new Set();  // keys with a send in flight or scheduled
async function send(p, delay = 1000) {
  retrying.add(p.key);
  let r = null, body = "";
  try {
    r = await fetch("/notes", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Idempotency-Key": p.key },
      body: JSON.stringify({ text: p.text }),
    });
    body = await r.text();
  } catch { r = null; }
  if (r && r.status === 201) {
    const seq = JSON.parse(body).seq;
    dropPending(p.key);
    retrying.delete(p.key);
    showResult("stored as #" + seq, true);
    return;
  }
  if (r && r.status >= 400 && r.status < 500 && r.status !== 429 && r.status !== 408) {
    // Refused for good (the UDP reasons): give the text back to be edited, or keep it marked
    // refused when another note is being written (never lose what was typed).
    retrying.delete(p.key);
    const box = $("text"), reason = errorText(body, r.status);
    if (!box.value) {
      box.value = p.text;
      dropPending(p.key);
    } else {
      savePending(loadPending().map((q) => (q.key === p.key ? { ...q, refused: reason } : q)));
      renderPending();
    }
    showResult("not stored: " + reason, false);
    return;
  }
  showResult("not stored yet (" + (r ? errorText(body, r.status) : "server unreachable") +
             ") — retrying", false);
  setTimeout(() => send(p, Math.min(delay * 2, 30000)), delay);
}

let lastSend = 0;  // Date.now() of the last note sent from the box
function compose(ev) {
  ev.preventDefault();
  const box = $("text");
  const text = box.value;
  if (!text.trim()) {
    // A second tap on Send right after a send (a double tap) is not an empty note.
    if (Date.now() - lastSend > 1500) showResult("nothing to send: the note is empty", false);
    return;
  }
  lastSend = Date.now();
  const p = { key: newKey(), text };
  savePending([...loadPending(), p]);
  renderPending();
  box.value = "";
  send(p);
}

// ---- wiring -------------------------------------------------------------------------------

let filterTimer = 0;
$("compose").addEventListener("submit", compose);
$("older").addEventListener("click", loadOlder);
$("filters").addEventListener("submit", (e) => { e.preventDefault(); load(); });
$("filters").addEventListener("reset", () => setTimeout(load, 0));
$("match").addEventListener("input", () => { clearTimeout(filterTimer); filterTimer = setTimeout(load, 300); });
$("day").addEventListener("change", load);
window.addEventListener("storage", renderPending);
document.addEventListener("visibilitychange", () => {
  if (document.hidden) {
    if (events) { closeEvents(); setStatus("paused while the tab is hidden"); }
  } else if (!events && loaded === generation) {
    connectEvents(generation);
  }
});
renderPending();
for (const p of loadPending()) if (!p.refused && !retrying.has(p.key)) send(p);
load();
