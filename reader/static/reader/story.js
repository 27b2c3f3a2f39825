// A story: its passages one at a time, the choices at the end of each, and
// the next passage arriving live while the worker writes it.

import { api } from "./api.js";
import { announce, errorBox, go, h, languageName, messageOf, prefs, report, show } from "./dom.js";
import { follow } from "./live.js";
import { passage } from "./passage.js";

const STEPS = [
  ["pending", "Queued"],
  ["generating", "Writing, translating, annotating and voicing"],
  ["complete", "Ready"],
];

export async function story(adventureId, entryId) {
  const heading = show("Story");
  const body = h("div");
  heading.after(body);
  let adventure;
  try {
    adventure = await api(`/api/adventures/${adventureId}`);
  } catch (error) {
    body.append(errorBox(error), h("p", {}, h("a", { href: "#/" }, "Back to your stories")));
    return;
  }
  prefs.language = adventure.target_language;
  prefs.level = adventure.level;
  const entries = adventure.entries;
  const summary = entries.find((e) => e.id === entryId) || entries[entries.length - 1];
  heading.textContent = adventure.title || `A story about ${adventure.theme || "anything"}`;
  document.title = `${heading.textContent} · langlearn reader`;
  const meta = h(
    "p",
    { class: "meta" },
    `${languageName(adventure.target_language)} · ${adventure.level}${adventure.theme ? ` · ${adventure.theme}` : ""} · passage ${summary.position} of ${entries.length}`,
  );
  body.append(meta, pager(adventure, summary));
  const slot = h("div", { class: "entry" });
  body.append(slot);

  let stops = [];
  const stopAll = () => {
    for (const stop of stops) stop();
    stops = [];
  };

  async function showEntry() {
    const path = `/api/adventures/${adventureId}/entries/${summary.id}`;
    const entry = await api(path);
    const reading = passage({
      data: entry,
      language: adventure.target_language,
      reload: () => api(path),
      knownPath: `${path}/known`,
    });
    stops.push(reading.stop);
    slot.replaceChildren(reading.element, choices(adventure, entry));
  }

  function waiting(status, trouble) {
    const index = STEPS.findIndex(([s]) => s === status);
    slot.replaceChildren(
      h(
        "section",
        { class: "card waiting", "aria-label": "The next passage" },
        h("p", {}, "The passage is being written. It appears here as soon as it is ready."),
        h(
          "ol",
          { class: "steps" },
          STEPS.map(([, label], i) =>
            h("li", { class: i < index ? "done" : i === index ? "now" : "", "aria-current": i === index ? "step" : false }, label),
          ),
        ),
        trouble ? h("p", { class: "meta" }, trouble) : null,
      ),
    );
  }

  function failed(message) {
    const retry = h(
      "button",
      {
        type: "button",
        class: "primary",
        onclick: async () => {
          retry.disabled = true;
          try {
            await api(`/api/adventures/${adventureId}/entries/${summary.id}/retry`, { method: "POST" });
            go(location.hash);
          } catch (error) {
            slot.append(errorBox(error));
            retry.disabled = false;
          }
        },
      },
      "Try again",
    );
    slot.replaceChildren(h("div", { class: "error", role: "alert" }, message), h("p", {}, retry));
  }

  if (summary.status === "complete") {
    await showEntry();
    return stopAll;
  }
  if (summary.status === "error") {
    const entry = await api(`/api/adventures/${adventureId}/entries/${summary.id}`);
    failed(entry.error || "This passage could not be written.");
    return stopAll;
  }
  let status = summary.status;
  waiting(status);
  stops.push(
    follow(adventureId, {
      onEvent: async (event) => {
        if (event.id !== summary.id || event.status === status) return;
        status = event.status;
        if (status === "complete") {
          // The whole view again, in this document: the story's title and
          // passage count may have changed with it.
          stopAll();
          announce("The next passage is here");
          go(location.hash);
        } else if (status === "error") {
          // The first events replayed may be those of an earlier attempt,
          // retried since: the entry itself says whether it is in error now.
          const entry = await api(`/api/adventures/${adventureId}/entries/${summary.id}`);
          if (entry.status === "error") {
            stopAll();
            failed(entry.error || "This passage could not be written.");
          } else {
            status = entry.status;
            waiting(status);
          }
        } else {
          waiting(status);
        }
      },
      // The story is over or in error, so nothing more will come: show it as it is.
      onEnd: () => {
        if (status !== "complete" && status !== "error") go(location.hash);
      },
      onTrouble: (error) => {
        if (status === "complete" || status === "error") return;
        waiting(status, error ? `Connection lost (${error === true ? "reconnecting" : messageOf(error)}); trying again…` : "");
      },
    }),
  );
  return stopAll;
}

function pager(adventure, summary) {
  const i = adventure.entries.indexOf(summary);
  const link = (entry, label) =>
    entry ? h("a", { href: `#/story/${adventure.id}/${entry.id}` }, label) : null;
  return h(
    "nav",
    { class: "pager", "aria-label": "Passages" },
    link(adventure.entries[i - 1], "← Previous passage"),
    link(adventure.entries[i + 1], "Next passage →"),
  );
}

function choices(adventure, entry) {
  const section = h("section", { class: "choices", "aria-labelledby": "choices-title" });
  const problems = h("div", { class: "problems" });
  if (!entry.choices.length) {
    section.append(h("h3", { id: "choices-title" }, "The end"), h("p", {}, h("a", { href: "#/" }, "Start another story")));
    return section;
  }
  const chosen = entry.decision?.choice_id;
  section.append(h("h3", { id: "choices-title" }, chosen ? "You chose" : "What do you do?"));
  const list = h("ol", { class: "choice-list" });
  for (const choice of entry.choices) {
    const button = h(
      "button",
      {
        type: "button",
        class: choice.id === chosen ? "choice chosen" : "choice",
        disabled: Boolean(chosen),
        "aria-pressed": chosen ? String(choice.id === chosen) : false,
        onclick: async () => {
          report(problems, null);
          for (const b of list.querySelectorAll("button")) b.disabled = true;
          try {
            const decision = await api(`/api/adventures/${adventure.id}/decisions`, {
              method: "POST",
              body: { entry_id: entry.id, choice_id: choice.id },
            });
            go(`#/story/${adventure.id}/${decision.next_entry.id}`);
          } catch (error) {
            report(problems, error);
            for (const b of list.querySelectorAll("button")) b.disabled = false;
          }
        },
      },
      h("span", { lang: adventure.target_language }, choice.text),
      choice.translation ? h("small", {}, choice.translation) : null,
    );
    list.append(h("li", {}, button));
  }
  section.append(list, problems);
  return section;
}
