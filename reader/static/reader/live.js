// An adventure's live status (Server-Sent Events). EventSource cannot send
// the Authorization header, so each connection opens with a ticket (one
// adventure) instead of the token. EventSource reconnects by itself and
// resumes with Last-Event-ID, on the same ticket for as long as the access
// token it was asked with lasts (`reconnect_until`); once the server refuses
// the reconnection, a new ticket opens a new stream that resumes after the
// last event seen (`last_event_id`). No polling.

import { api } from "./api.js";

// onEvent({id, position, status, adventure_status}); onEnd({adventure_status});
// onTrouble(error, or true, or null): the stream is down and retrying (with
// the error that took it down, when there is one), or back (null).
// Returns a function that closes the stream.
export function follow(adventureId, { onEvent, onEnd = () => {}, onTrouble = () => {} }) {
  let source = null;
  let lastId = "";
  let closed = false;
  let timer = null;
  let wait = 1000;

  const retry = (error) => {
    onTrouble(error || true);
    timer = setTimeout(open, wait);
    wait = Math.min(wait * 2, 30_000);
  };

  async function open() {
    if (closed) return;
    let ticket;
    try {
      ticket = (await api(`/api/adventures/${adventureId}/events/ticket`, { method: "POST" })).ticket;
    } catch (error) {
      if (!closed) retry(error);
      return;
    }
    if (closed) return;
    const query = new URLSearchParams({ ticket });
    if (lastId) query.set("last_event_id", lastId);
    source = new EventSource(`/api/adventures/${adventureId}/events?${query}`);
    source.addEventListener("open", () => {
      wait = 1000;
      onTrouble(null);
    });
    source.addEventListener("message", (event) => {
      if (event.lastEventId) lastId = event.lastEventId;
      onEvent(JSON.parse(event.data));
    });
    source.addEventListener("end", (event) => {
      close();
      onEnd(JSON.parse(event.data));
    });
    source.addEventListener("error", () => {
      // CONNECTING: the browser reconnects by itself. CLOSED: it gave up
      // (the ticket expired, the server refused): a new ticket, a new stream.
      if (source && source.readyState === EventSource.CLOSED && !closed) {
        source = null;
        retry(null);
      }
    });
  }

  function close() {
    closed = true;
    clearTimeout(timer);
    source?.close();
  }

  open();
  return close;
}
